import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user feedback on messages (one rating per user and message, upserted) and a FULLTEXT index on message content
 * for `GET /search/messages`. Feedback goes with its message or its user. The archived filter of the conversation
 * list is served by the owner index plus `archived_at`.
 */
export class ConversationFeatures1795710000000 implements MigrationInterface {
  name = 'ConversationFeatures1795710000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE message_feedback (
      message_id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      rating ENUM('up', 'down') NOT NULL,
      comment VARCHAR(2000) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (message_id, user_id),
      KEY ix_message_feedback_user (user_id),
      CONSTRAINT fk_message_feedback_message FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
      CONSTRAINT fk_message_feedback_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await db.query('ALTER TABLE messages ADD FULLTEXT KEY ft_messages_content (content)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE messages DROP INDEX ft_messages_content');
    await db.query('DROP TABLE IF EXISTS message_feedback');
  }
}
