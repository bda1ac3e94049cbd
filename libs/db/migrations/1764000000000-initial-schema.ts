import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, sessions, conversations, the message tree, chat turns and the append-only audit log. */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE users (
      id CHAR(36) NOT NULL,
      email VARCHAR(254) NOT NULL,
      display_name VARCHAR(100) NOT NULL,
      password_hash VARCHAR(100) NOT NULL,
      role ENUM('user','admin') NOT NULL DEFAULT 'user',
      disabled TINYINT(1) NOT NULL DEFAULT 0,
      mfa_enabled TINYINT(1) NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY uq_users_email (email)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE sessions (
      id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      refresh_token_hash CHAR(64) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      revoked_at DATETIME(3) NULL,
      ip VARCHAR(64) NULL,
      user_agent VARCHAR(255) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY uq_sessions_refresh (refresh_token_hash),
      KEY ix_sessions_user (user_id),
      CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE conversations (
      id CHAR(36) NOT NULL,
      owner_id CHAR(36) NOT NULL,
      title VARCHAR(200) NOT NULL,
      model VARCHAR(100) NULL,
      system_prompt MEDIUMTEXT NULL,
      current_message_id CHAR(36) NULL,
      archived_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      KEY ix_conversations_owner_updated (owner_id, updated_at),
      CONSTRAINT fk_conversations_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE messages (
      id CHAR(36) NOT NULL,
      conversation_id CHAR(36) NOT NULL,
      parent_id CHAR(36) NULL,
      role ENUM('user','assistant','system') NOT NULL,
      content MEDIUMTEXT NOT NULL,
      status ENUM('complete','cancelled','failed') NOT NULL DEFAULT 'complete',
      model VARCHAR(100) NULL,
      turn_id CHAR(36) NULL,
      citations JSON NULL,
      \`usage\` JSON NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      KEY ix_messages_conversation_created (conversation_id, created_at),
      KEY ix_messages_parent (parent_id),
      UNIQUE KEY uq_messages_turn_role (turn_id, role),
      CONSTRAINT fk_messages_conversation FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE turns (
      id CHAR(36) NOT NULL,
      conversation_id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      user_message_id CHAR(36) NOT NULL,
      assistant_message_id CHAR(36) NOT NULL,
      status ENUM('queued','running','completed','failed','cancelled') NOT NULL DEFAULT 'queued',
      workflow_id VARCHAR(100) NOT NULL,
      idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
      request_hash CHAR(64) NOT NULL,
      request_id VARCHAR(128) NOT NULL,
      model VARCHAR(100) NULL,
      steps JSON NULL,
      error_code VARCHAR(64) NULL,
      error_detail VARCHAR(1000) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      completed_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_turns_workflow (workflow_id),
      UNIQUE KEY uq_turns_user_idempotency (user_id, idempotency_key),
      KEY ix_turns_conversation (conversation_id),
      CONSTRAINT fk_turns_conversation FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await db.query(`CREATE TABLE audit_log (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      actor_id CHAR(36) NULL,
      action VARCHAR(64) NOT NULL,
      target_type VARCHAR(32) NULL,
      target_id VARCHAR(64) NULL,
      ip VARCHAR(64) NULL,
      user_agent VARCHAR(255) NULL,
      request_id VARCHAR(128) NULL,
      metadata JSON NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      KEY ix_audit_action_created (action, created_at),
      KEY ix_audit_actor_created (actor_id, created_at),
      KEY ix_audit_target (target_type, target_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // The audit log is append-only for everyone who connects through the application.
    await db.query(`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'`);
    await db.query(`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER IF EXISTS audit_log_no_delete');
    await db.query('DROP TRIGGER IF EXISTS audit_log_no_update');
    for (const table of ['audit_log', 'turns', 'messages', 'conversations', 'sessions', 'users']) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
