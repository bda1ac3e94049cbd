import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batch replays: the replay and its settings (`replays`), the conversations it covers in the order they are replayed
 * (`replay_conversations`, filled from the selection when the replay is created, so the workflow pages through ids
 * instead of carrying them), and one row per user turn and arm (`replay_results`, unique on the four of them, so a
 * retried or re-run step stores an answer once). Replays never write into `messages` or `turns`. Deleting (or
 * purging) a conversation deletes the answers replayed from it (they repeat what its user wrote); the replay keeps
 * that it covered the conversation (`replay_conversations` holds ids only).
 */
export class Replays1795810000000 implements MigrationInterface {
  name = 'Replays1795810000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE replays (
      id CHAR(36) NOT NULL,
      created_by CHAR(36) NOT NULL,
      status ENUM('queued','running','paused','completed','failed','cancelled') NOT NULL DEFAULT 'queued',
      mode ENUM('pinned','trajectory') NOT NULL,
      selection JSON NOT NULL,
      arms JSON NOT NULL,
      judge JSON NULL,
      limits JSON NOT NULL,
      seed INT UNSIGNED NOT NULL,
      total_conversations INT UNSIGNED NOT NULL,
      progress JSON NULL,
      summary JSON NULL,
      error_code VARCHAR(64) NULL,
      error_detail VARCHAR(1000) NULL,
      workflow_id VARCHAR(100) NOT NULL,
      idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
      request_hash CHAR(64) NOT NULL,
      request_id VARCHAR(128) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      started_at DATETIME(3) NULL,
      completed_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_replays_workflow (workflow_id),
      UNIQUE KEY uq_replays_creator_idempotency (created_by, idempotency_key),
      KEY ix_replays_creator_created (created_by, created_at),
      CONSTRAINT fk_replays_creator FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE replay_conversations (
      replay_id CHAR(36) NOT NULL,
      seq INT UNSIGNED NOT NULL,
      conversation_id CHAR(36) NOT NULL,
      status ENUM('pending','running','completed','failed','cancelled') NOT NULL DEFAULT 'pending',
      turns INT UNSIGNED NOT NULL DEFAULT 0,
      error_code VARCHAR(64) NULL,
      error_detail VARCHAR(1000) NULL,
      started_at DATETIME(3) NULL,
      completed_at DATETIME(3) NULL,
      PRIMARY KEY (replay_id, seq),
      UNIQUE KEY uq_replay_conversations_conversation (replay_id, conversation_id),
      KEY ix_replay_conversations_status (replay_id, status),
      CONSTRAINT fk_replay_conversations_replay FOREIGN KEY (replay_id) REFERENCES replays (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE replay_results (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      replay_id CHAR(36) NOT NULL,
      conversation_id CHAR(36) NOT NULL,
      turn_index INT UNSIGNED NOT NULL,
      arm_index TINYINT UNSIGNED NOT NULL,
      user_message_id CHAR(36) NOT NULL,
      original_message_id CHAR(36) NULL,
      status ENUM('complete','failed') NOT NULL,
      content MEDIUMTEXT NOT NULL,
      model VARCHAR(100) NULL,
      provider VARCHAR(64) NULL,
      citations JSON NULL,
      metrics JSON NOT NULL,
      original_metrics JSON NULL,
      verdict JSON NULL,
      bucket ENUM('improved','regressed','unchanged') NOT NULL,
      error_code VARCHAR(64) NULL,
      error_detail VARCHAR(1000) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY uq_replay_results_turn_arm (replay_id, conversation_id, turn_index, arm_index),
      KEY ix_replay_results_arm_bucket (replay_id, arm_index, bucket, id),
      KEY ix_replay_results_conversation (conversation_id),
      CONSTRAINT fk_replay_results_replay FOREIGN KEY (replay_id) REFERENCES replays (id) ON DELETE CASCADE,
      CONSTRAINT fk_replay_results_conversation FOREIGN KEY (conversation_id) REFERENCES conversations (id)
        ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS replay_results');
    await db.query('DROP TABLE IF EXISTS replay_conversations');
    await db.query('DROP TABLE IF EXISTS replays');
  }
}
