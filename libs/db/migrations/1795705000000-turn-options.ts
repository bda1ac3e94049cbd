import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a turn was asked to use besides the conversation (web search, a subset of the user's files). Kept on the
 * turn so the workflow input can always be rebuilt from the row (an Idempotency-Key replay, a restarted API).
 */
export class TurnOptions1795705000000 implements MigrationInterface {
  name = 'TurnOptions1795705000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE turns ADD COLUMN options JSON NULL');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE turns DROP COLUMN options');
  }
}
