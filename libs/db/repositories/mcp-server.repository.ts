import { type EntityManager, Equal, IsNull } from 'typeorm';
import { McpServerEntity } from '../entities/mcp-server.entity';

export type NewMcpServer = Pick<
  McpServerEntity,
  'id' | 'userId' | 'name' | 'url' | 'headersSealed' | 'requiresApproval' | 'oauth'
>;

/** An OAuth authorization under way, as the callback finds it. */
export interface PendingMcpOAuth {
  server: McpServerEntity;
  /** The sealed PKCE verifier. */
  pendingSealed: string;
}

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

  /**
   * Stores what an OAuth sign-in left (sealed), or clears it; false when the server is gone, or, given `expected`, when
   * the row no longer holds that sealed value (another process wrote it since it was read: its write stands).
   */
  async saveOAuth(id: string, oauthSealed: string | null, expected?: string | null): Promise<boolean> {
    const where = expected === undefined ? { id } : { id, oauthSealed: expected === null ? IsNull() : Equal(expected) };
    const result = await this.servers.update(where, { oauthSealed });
    return (result.affected ?? 0) === 1;
  }

  /** Records an authorization under way on the owner's OAuth server, replacing an earlier one; false if none such. */
  async startOAuth(
    id: string,
    userId: string,
    pending: { stateHash: string; pendingSealed: string; expiresAt: Date },
  ): Promise<boolean> {
    const result = await this.servers.update(
      { id, userId, oauth: true },
      {
        oauthStateHash: pending.stateHash,
        oauthPendingSealed: pending.pendingSealed,
        oauthPendingExpiresAt: pending.expiresAt,
      },
    );
    return (result.affected ?? 0) === 1;
  }

  /**
   * Takes the authorization under way whose state hashes to `stateHash`, on one of `userId`'s servers, if it has not
   * expired: it is cleared in the same statement that claims it, so a state is used once, even by two callbacks at
   * once. Undefined when there is none (unknown, used, expired or another user's).
   */
  async takeOAuthPending(stateHash: string, userId: string, now: Date): Promise<PendingMcpOAuth | undefined> {
    const server = await this.servers.findOneBy({ oauthStateHash: stateHash, userId });
    if (!server?.oauthPendingSealed || !server.oauthPendingExpiresAt) return undefined;
    const claimed = await this.servers.update(
      { id: server.id, userId, oauthStateHash: stateHash },
      { oauthStateHash: null, oauthPendingSealed: null, oauthPendingExpiresAt: null },
    );
    if ((claimed.affected ?? 0) !== 1 || server.oauthPendingExpiresAt.getTime() <= now.getTime()) return undefined;
    return { server, pendingSealed: server.oauthPendingSealed };
  }

  /** False when the user has no such server. */
  async deleteOwned(id: string, userId: string): Promise<boolean> {
    const result = await this.servers.delete({ id, userId });
    return (result.affected ?? 0) === 1;
  }
}
