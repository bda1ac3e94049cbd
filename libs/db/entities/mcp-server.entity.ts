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

  /** Signs in with OAuth (the MCP authorization spec) rather than fixed headers. */
  @Column({ type: 'boolean', default: false })
  oauth!: boolean;

  /** What the OAuth sign-in left (client registration, tokens, discovery), sealed; null until the first sign-in. */
  @Column({ name: 'oauth_sealed', type: 'text', nullable: true })
  oauthSealed!: string | null;

  /** SHA-256 (hex) of the `state` of an authorization under way, which the callback must bring back. */
  @Column({ name: 'oauth_state_hash', type: 'char', length: 64, nullable: true })
  oauthStateHash!: string | null;

  /** The PKCE verifier of that authorization, sealed. */
  @Column({ name: 'oauth_pending_sealed', type: 'text', nullable: true })
  oauthPendingSealed!: string | null;

  @Column({ name: 'oauth_pending_expires_at', type: 'datetime', precision: 3, nullable: true })
  oauthPendingExpiresAt!: Date | null;

  @Column({ name: 'requires_approval', type: 'boolean', default: true })
  requiresApproval!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
