import { MigrationInterface, QueryRunner } from 'typeorm';

/** Invitations for REGISTRATION=invite: one address per code, the code stored as its SHA-256 hash. */
export class Invitations1795800000000 implements MigrationInterface {
  name = 'Invitations1795800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE invitations (
      id CHAR(36) NOT NULL,
      email VARCHAR(254) NOT NULL,
      role ENUM('user', 'admin') NOT NULL DEFAULT 'user',
      code_hash CHAR(64) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      accepted_at DATETIME(3) NULL,
      accepted_by CHAR(36) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY ux_invitations_code_hash (code_hash),
      KEY ix_invitations_email (email)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS invitations');
  }
}
