import { MigrationInterface, QueryRunner } from 'typeorm';

/** Scoped API tokens: stored only as SHA-256 hashes, revoked by timestamp, removed with their user. */
export class ApiTokens1795650000000 implements MigrationInterface {
  name = 'ApiTokens1795650000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE api_tokens (
      id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      name VARCHAR(100) NOT NULL,
      token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      prefix VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      scopes JSON NOT NULL,
      expires_at DATETIME(3) NULL,
      last_used_at DATETIME(3) NULL,
      revoked_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY uq_api_tokens_hash (token_hash),
      KEY ix_api_tokens_user_created (user_id, created_at),
      CONSTRAINT fk_api_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS api_tokens');
  }
}
