import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user shares of a conversation: `read` (see it and its turns) or `write` (also send messages). One row per
 * conversation and sharee; it goes with the conversation or the user. The user index serves "conversations shared
 * with me".
 */
export class ConversationShares1795680000000 implements MigrationInterface {
  name = 'ConversationShares1795680000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE conversation_shares (
      conversation_id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      permission ENUM('read', 'write') NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      created_by CHAR(36) NOT NULL,
      PRIMARY KEY (conversation_id, user_id),
      KEY ix_conversation_shares_user (user_id),
      KEY ix_conversation_shares_created_by (created_by),
      CONSTRAINT fk_conversation_shares_conversation FOREIGN KEY (conversation_id) REFERENCES conversations (id)
        ON DELETE CASCADE,
      CONSTRAINT fk_conversation_shares_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
      CONSTRAINT fk_conversation_shares_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS conversation_shares');
  }
}
