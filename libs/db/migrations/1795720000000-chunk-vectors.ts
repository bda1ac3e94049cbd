import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Vectors move out of `file_chunks` into `file_chunk_vectors`. Stored inline they made the chunk table five times
 * larger than its text, so FULLTEXT searches stopped fitting the buffer pool (100k chunks of 384 dims: 335 MB, most
 * lexical queries read from disk). The text table now stays small; vectors are read only when the worker loads a
 * user's vector index. A vector goes with its chunk (cascade).
 */
export class ChunkVectors1795720000000 implements MigrationInterface {
  name = 'ChunkVectors1795720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE file_chunk_vectors (
      chunk_id CHAR(36) NOT NULL,
      file_id CHAR(36) NOT NULL,
      user_id CHAR(36) NOT NULL,
      embedding MEDIUMBLOB NOT NULL,
      PRIMARY KEY (chunk_id),
      KEY ix_file_chunk_vectors_user (user_id),
      KEY ix_file_chunk_vectors_file (file_id),
      CONSTRAINT fk_file_chunk_vectors_chunk FOREIGN KEY (chunk_id) REFERENCES file_chunks (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await db.query(`INSERT INTO file_chunk_vectors (chunk_id, file_id, user_id, embedding)
      SELECT id, file_id, user_id, embedding FROM file_chunks WHERE embedding IS NOT NULL`);
    await db.query('ALTER TABLE file_chunks DROP COLUMN embedding');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE file_chunks ADD COLUMN embedding MEDIUMBLOB NULL');
    await db.query(`UPDATE file_chunks c JOIN file_chunk_vectors v ON v.chunk_id = c.id SET c.embedding = v.embedding`);
    await db.query('DROP TABLE IF EXISTS file_chunk_vectors');
  }
}
