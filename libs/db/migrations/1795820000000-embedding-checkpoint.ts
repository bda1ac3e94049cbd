import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `files.embedded_seq`: the highest chunk `seq` whose vector the file's ingestion stored, written with each batch's
 * progress. An embedding step retried after its worker died resumes after it. The activity's heartbeat details alone
 * could not say: Temporal throttles heartbeats, so the last ones a dead worker sent may never have reached the server,
 * and the batches after them were embedded a second time.
 */
export class EmbeddingCheckpoint1795820000000 implements MigrationInterface {
  name = 'EmbeddingCheckpoint1795820000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE files ADD COLUMN embedded_seq INT NULL AFTER chunk_count');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE files DROP COLUMN embedded_seq');
  }
}
