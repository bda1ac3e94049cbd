import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An MCP server a user added for their own turns; its headers (credentials) are sealed, never stored in clear. */
@Entity({ name: 'mcp_servers' })
export class McpServerEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 31 })
  name!: string;

  @Column({ type: 'varchar', length: 2000 })
  url!: string;

  @Column({ name: 'headers_sealed', type: 'text', nullable: true })
  headersSealed!: string | null;

  @Column({ name: 'requires_approval', type: 'boolean', default: true })
  requiresApproval!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
