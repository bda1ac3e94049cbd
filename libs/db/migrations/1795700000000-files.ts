import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploaded files and their chunks.
 *
 * A file row is written before its bytes reach the object store (status `uploading`), so the `ingestFile` workflow
 * that owns the file can always find and clean up what an interrupted upload left. Chunks carry the owner's id so
 * retrieval filters by user without a join; the FULLTEXT index serves lexical search with no embedding model, and
 * `embedding` holds the vector (float32 little-endian) when an embedding provider is configured.
 */
export class Files1795700000000 implements MigrationInterface {
  name = 'Files1795700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE files (
      id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      name VARCHAR(255) NOT NULL,
      kind ENUM('txt', 'md', 'html', 'pdf', 'docx', 'csv', 'json') NOT NULL,
      mime_type VARCHAR(100) NOT NULL,
      size BIGINT UNSIGNED NOT NULL DEFAULT 0,
      sha256 CHAR(64) NULL,
      storage_key VARCHAR(300) NOT NULL,
      status ENUM('uploading', 'processing', 'ready', 'failed') NOT NULL DEFAULT 'uploading',
      progress TINYINT UNSIGNED NOT NULL DEFAULT 0,
      stage VARCHAR(32) NULL,
      chunk_count INT UNSIGNED NOT NULL DEFAULT 0,
      embedding_model VARCHAR(100) NULL,
      error_code VARCHAR(64) NULL,
      error_detail VARCHAR(1000) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY ux_files_storage_key (storage_key),
      KEY ix_files_user_created (user_id, created_at, id),
      CONSTRAINT fk_files_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await db.query(`CREATE TABLE file_chunks (
      id CHAR(36) NOT NULL,
      file_id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      seq INT UNSIGNED NOT NULL,
      heading VARCHAR(500) NULL,
      content MEDIUMTEXT NOT NULL,
      tokens INT UNSIGNED NOT NULL,
      embedding MEDIUMBLOB NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (id),
      UNIQUE KEY ux_file_chunks_file_seq (file_id, seq),
      KEY ix_file_chunks_user (user_id),
      FULLTEXT KEY ft_file_chunks_content (content),
      CONSTRAINT fk_file_chunks_file FOREIGN KEY (file_id) REFERENCES files (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS file_chunks');
    await db.query('DROP TABLE IF EXISTS files');
  }
}
