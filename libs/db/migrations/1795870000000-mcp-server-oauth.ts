import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's MCP server may sign in with OAuth instead of fixed headers. `oauth_sealed` holds what the sign-in left (the
 * client registered with the server's authorization server, the tokens, the discovery), sealed like the headers. An
 * authorization under way waits in `oauth_state_hash` (SHA-256 of the `state` sent to the authorization server, so
 * the callback finds its row without the state being stored) and `oauth_pending_sealed` (the PKCE verifier), until
 * `oauth_pending_expires_at`.
 */
export class McpServerOAuth1795870000000 implements MigrationInterface {
  name = 'McpServerOAuth1795870000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers
      ADD COLUMN oauth TINYINT(1) NOT NULL DEFAULT 0 AFTER headers_sealed,
      ADD COLUMN oauth_sealed TEXT NULL AFTER oauth,
      ADD COLUMN oauth_state_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER oauth_sealed,
      ADD COLUMN oauth_pending_sealed TEXT NULL AFTER oauth_state_hash,
      ADD COLUMN oauth_pending_expires_at DATETIME(3) NULL AFTER oauth_pending_sealed,
      ADD UNIQUE KEY uq_mcp_servers_oauth_state (oauth_state_hash)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers DROP KEY uq_mcp_servers_oauth_state, DROP COLUMN oauth_pending_expires_at,
      DROP COLUMN oauth_pending_sealed, DROP COLUMN oauth_state_hash, DROP COLUMN oauth_sealed, DROP COLUMN oauth`);
  }
}
