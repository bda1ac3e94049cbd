import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh-token reuse detection: every refresh token a session has spent is kept (as a hash) so that presenting
 * one again is recognised and revokes the session; sessions record why they were revoked.
 */
export class RefreshTokenReuse1795627281276 implements MigrationInterface {
  name = 'RefreshTokenReuse1795627281276';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE sessions ADD COLUMN revoked_reason VARCHAR(32) NULL AFTER revoked_at');
    await db.query(`CREATE TABLE refresh_tokens (
      token_hash CHAR(64) NOT NULL,
      session_id CHAR(36) NOT NULL,
      spent_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (token_hash),
      KEY ix_refresh_tokens_session (session_id),
      CONSTRAINT fk_refresh_tokens_session FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS refresh_tokens');
    await db.query('ALTER TABLE sessions DROP COLUMN revoked_reason');
  }
}
