import type { EntityManager } from 'typeorm';
import { McpServerEntity } from '../entities/mcp-server.entity';

export type NewMcpServer = Pick<
  McpServerEntity,
  'id' | 'userId' | 'name' | 'url' | 'headersSealed' | 'requiresApproval'
>;

/** Users' own MCP servers; every query is scoped to the owner. */
export class McpServerRepository {
  constructor(private readonly manager: EntityManager) {}

  private get servers() {
    return this.manager.getRepository(McpServerEntity);
  }

  /** Inserts the server; false when the user already has one of that name. */
  async create(server: NewMcpServer): Promise<boolean> {
    const result = await this.servers
      .createQueryBuilder()
      .insert()
      .into(McpServerEntity)
      .values(server)
      .orIgnore()
      .execute();
    return (result.raw as { affectedRows?: number }).affectedRows === 1;
  }

  listOwned(userId: string): Promise<McpServerEntity[]> {
    return this.servers.find({ where: { userId }, order: { name: 'ASC' } });
  }

  findOwned(id: string, userId: string): Promise<McpServerEntity | null> {
    return this.servers.findOneBy({ id, userId });
  }

  /** False when the user has no such server. */
  async deleteOwned(id: string, userId: string): Promise<boolean> {
    const result = await this.servers.delete({ id, userId });
    return (result.affected ?? 0) === 1;
  }
}
