import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { INGEST_FAILURE_TYPES } from '#libs/contracts/ingest-file.contract';
import type { EmbeddedChunks, IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import { EmbeddingError } from '#libs/retrieval/embedding-client';
import { activityLogger } from './activity-logger';
import type { IngestActivityDeps } from './ingest-deps';

export type EmbedChunksDeps = Pick<IngestActivityDeps, 'logger' | 'embeddings' | 'versions'> & {
  db: { files: Pick<FileRepository, 'reportProgress' | 'embeddedThrough'> };
  chunks: Pick<ChunkStore, 'countFileChunks' | 'chunksAfter' | 'storeVectors'>;
};

/**
 * Heartbeat details of `embedChunks`: the highest chunk `seq` whose vector is stored. Temporal throttles heartbeats, so
 * a dead worker's last ones may never have reached the server; the file row keeps the same checkpoint (`embeddedSeq`,
 * written with each batch's progress) and a retry resumes after the later of the two.
 */
export interface EmbedCheckpoint {
  lastSeq: number;
}

/** How often embedding reports liveness while a provider call is slow. */
const HEARTBEAT_MS = 5_000;

export function createEmbedChunks(deps: EmbedChunksDeps) {
  const { db, chunks } = deps;
  /** Embedding takes the file from 50 % to 90 %. */
  const report = (file: IngestFileRef, done: number, total: number, lastSeq?: number): Promise<void> =>
    db.files.reportProgress(file.fileId, file.userId, 'embed', 50 + (40 * done) / Math.max(total, 1), lastSeq);

  return {
    /**
     * Embeds the file's chunks in batches, in `seq` order, storing each batch's vectors before the next call. The
     * heartbeat after each batch records where it got to; a retry (this worker died, the provider failed) resumes
     * after the last batch stored. Skipped, and reported as such, when no embedding provider is configured.
     */
    async embedChunks(file: IngestFileRef): Promise<EmbeddedChunks> {
      const embeddings = deps.embeddings;
      if (!embeddings) return { skipped: true, embedded: 0 };
      const log = activityLogger(deps.logger, file, 'embedChunks');
      const ctx = Context.current();
      const checkpoint = ctx.info.heartbeatDetails as EmbedCheckpoint | undefined;
      let lastSeq = typeof checkpoint?.lastSeq === 'number' ? checkpoint.lastSeq : -1;
      // A retry: the file row may know of batches stored after the last heartbeat that reached Temporal.
      if (ctx.info.attempt > 1)
        lastSeq = Math.max(lastSeq, (await db.files.embeddedThrough(file.fileId, file.userId)) ?? -1);
      const total = await chunks.countFileChunks(file.fileId, file.userId);
      let done = lastSeq < 0 ? 0 : total - (await chunks.countFileChunks(file.fileId, file.userId, lastSeq));
      if (lastSeq >= 0) log.info({ lastSeq, done }, 'resuming embeddings after the last stored batch');
      await report(file, done, total);

      // Liveness while a provider call is slow (the heartbeat after each batch carries the checkpoint).
      const beat = setInterval(() => ctx.heartbeat({ lastSeq } satisfies EmbedCheckpoint), HEARTBEAT_MS);
      try {
        for (;;) {
          // Cancelled (the file was deleted, the worker is stopping): stop calling the provider; a retry resumes.
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('Embedding was cancelled');
          const batch = await chunks.chunksAfter(file.fileId, file.userId, lastSeq, embeddings.batchSize);
          if (batch.length === 0) break;
          let vectors: Float32Array[];
          try {
            vectors = await embeddings.client.embed(batch.map((chunk) => chunk.content));
          } catch (error) {
            if (error instanceof EmbeddingError) {
              log.warn({ code: error.code, retryable: error.retryable }, 'embedding failed');
              throw ApplicationFailure.create({
                message: error.message,
                type: INGEST_FAILURE_TYPES.embeddingFailed,
                nonRetryable: !error.retryable,
              });
            }
            throw error;
          }
          if (vectors.length !== batch.length) {
            throw new Error(`The embedding provider returned ${vectors.length} vectors for ${batch.length} texts`);
          }
          await chunks.storeVectors(
            file.fileId,
            file.userId,
            batch.map((chunk, index) => ({ seq: chunk.seq, embedding: vectors[index]! })),
          );
          lastSeq = batch.at(-1)!.seq;
          done += batch.length;
          ctx.heartbeat({ lastSeq } satisfies EmbedCheckpoint);
          await report(file, done, total, lastSeq);
        }
      } finally {
        clearInterval(beat);
      }
      await deps.versions?.bump(file.userId);
      log.info({ embedded: done, model: embeddings.model }, 'chunks embedded');
      return { skipped: false, embedded: done, model: embeddings.model };
    },
  };
}
