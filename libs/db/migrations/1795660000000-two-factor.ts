import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TOTP two-factor authentication: the user's secret, sealed with TOTP_ENCRYPTION_KEY (pending until `mfa_enabled`),
 * the last time step a code was accepted for (a code works once), and single-use recovery codes kept as SHA-256.
 */
export class TwoFactor1795660000000 implements MigrationInterface {
  name = 'TwoFactor1795660000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users
      ADD COLUMN mfa_secret VARCHAR(255) NULL AFTER mfa_enabled,
      ADD COLUMN mfa_last_step INT UNSIGNED NULL AFTER mfa_secret`);
    await db.query(`CREATE TABLE mfa_recovery_codes (
      user_id CHAR(36) NOT NULL,
      code_hash CHAR(64) NOT NULL,
      used_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (user_id, code_hash),
      CONSTRAINT fk_mfa_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS mfa_recovery_codes');
    await db.query('ALTER TABLE users DROP COLUMN mfa_last_step, DROP COLUMN mfa_secret');
  }
}
