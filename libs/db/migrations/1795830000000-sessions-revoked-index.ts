import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index on `sessions.revoked_at`: when Redis has lost its copy of the revoked sessions (a flush, a restart without
 * persistence) the API copies the revocations of the last access-token lifetime back from MySQL, a range on this
 * column, and should not scan every session ever opened to do it.
 */
export class SessionsRevokedIndex1795830000000 implements MigrationInterface {
  name = 'SessionsRevokedIndex1795830000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('CREATE INDEX ix_sessions_revoked ON sessions (revoked_at)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX ix_sessions_revoked ON sessions');
  }
}
