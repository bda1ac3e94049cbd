import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `conversations.tools`: the tools the model may call in the conversation's turns when a message names none (names as
 * `GET /tools` lists them). Null: no tools unless a message asks for some.
 */
export class ConversationTools1795860000000 implements MigrationInterface {
  name = 'ConversationTools1795860000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE conversations ADD COLUMN tools JSON NULL AFTER system_prompt');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE conversations DROP COLUMN tools');
  }
}
