import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `mcp_servers`: the MCP servers users add for themselves (streamable HTTP), whose tools their turns may call. The
 * request headers (their credentials) are stored sealed with the deployment's secret box, bound to the row's id.
 */
export class McpServers1795850000000 implements MigrationInterface {
  name = 'McpServers1795850000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE mcp_servers (
      id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      name VARCHAR(31) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      url VARCHAR(2000) NOT NULL,
      headers_sealed TEXT NULL,
      requires_approval TINYINT(1) NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY uq_mcp_servers_user_name (user_id, name),
      CONSTRAINT fk_mcp_servers_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE mcp_servers');
  }
}
