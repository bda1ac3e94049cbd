import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `messages.tool_calls`: the tool calls an answer was made with (which tool, its arguments, the outcome, a summary of
 * the result and how long it took), stored with the answer in its transaction. Null for answers without tools.
 */
export class MessageToolCalls1795840000000 implements MigrationInterface {
  name = 'MessageToolCalls1795840000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE messages ADD COLUMN tool_calls JSON NULL AFTER `usage`');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE messages DROP COLUMN tool_calls');
  }
}
