import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Readable } from 'node:stream';
import { MoreThan } from 'typeorm';
import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { INGEST_FAILURE_TYPES } from '#libs/contracts/ingest-file.contract';
import type { EmbeddedChunks, ExtractedChunks, IngestFileRef, IngestStage } from '#libs/contracts/ingest-file.contract';
import { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import { FileChunkEntity } from '#libs/db/entities/file-chunk.entity';
import { FileEntity } from '#libs/db/entities/file.entity';
import type { DocumentPool } from '#libs/documents/document-pool';
import { DocumentError } from '#libs/documents/document.error';
import { prepareDocument, type PreparedDocument } from '#libs/documents/prepare-document';
import type { Logger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import { EmbeddingError } from '#libs/retrieval/embedding-client';
import type { IndexVersions } from '#libs/retrieval/index-versions';
import { ObjectNotFoundError } from '#libs/storage/object-store.errors';
import { objectKeyFor } from '#libs/storage/object-store';
import type { ObjectStore } from '#libs/storage/object-store';

/** The part of an embedding client the activities use. */
export interface Embedder {
  embed(texts: string[]): Promise<Float32Array[]>;
}

export interface IngestActivityDeps {
  db: DataSource;
  store: ObjectStore;
  chunks: ChunkStore;
  logger: Logger;
  /** Worker threads for extraction and chunking; without it they run on the calling thread. */
  documents?: Pick<DocumentPool, 'prepare'>;
  /** Files larger than this are not read back (the upload already refused them). */
  maxBytes: number;
  chunkTokens: number;
  chunkOverlapTokens: number;
  /** Absent: the embedding step is skipped and reported as such; retrieval stays lexical. */
  embeddings?: { client: Embedder; model: string; batchSize: number };
  /** Bumped when a user's vectors change, so in-process vector caches reload. */
  versions?: IndexVersions;
}

/** How often extraction reports liveness while its document is prepared on the thread pool. */
const HEARTBEAT_MS = 5_000;

/** Heartbeat details of `embedChunks`: the highest chunk `seq` whose vector is stored. */
interface EmbedCheckpoint {
  lastSeq: number;
}

/** Builds the ingestFile activities from their dependencies; the worker passes real clients, tests may pass others. */
export function createIngestActivities(deps: IngestActivityDeps) {
  const { db, store, chunks } = deps;
  const files = () => db.getRepository(FileEntity);

  const logFor = (file: IngestFileRef, activity: string): Logger =>
    deps.logger.child({
      requestId: file.requestId,
      fileId: file.fileId,
      workflowId: `ingest:${file.fileId}`,
      activity,
    });

  /** Progress as `GET /files/:id` shows it; only while the file is being processed. */
  const report = async (file: IngestFileRef, stage: IngestStage, progress: number): Promise<void> => {
    await files().update(
      { id: file.fileId, userId: file.userId, status: 'processing' },
      { stage, progress: Math.max(0, Math.min(100, Math.round(progress))) },
    );
  };

  const gone = (file: IngestFileRef): ApplicationFailure =>
    ApplicationFailure.nonRetryable(`File ${file.fileId} no longer exists`, INGEST_FAILURE_TYPES.fileGone);

  return {
    /**
     * Reads the object, extracts its text and writes its chunks (without vectors). Only counts go back to the
     * workflow, so no document text ever enters its history. A document that cannot be read fails for good with its
     * DocumentError code as the failure type.
     */
    async extractAndChunk(file: IngestFileRef): Promise<ExtractedChunks> {
      const log = logFor(file, 'extractAndChunk');
      const row = await files().findOneBy({ id: file.fileId, userId: file.userId });
      if (!row) throw gone(file);
      await report(file, 'extract', 10);
      let data: Buffer;
      try {
        data = await readAll(await store.get(row.storageKey), deps.maxBytes);
      } catch (error) {
        if (error instanceof ObjectNotFoundError) throw gone(file);
        throw error;
      }
      let prepared: PreparedDocument;
      try {
        // On a worker thread when a pool is given: the worker's event loop (chat turns, heartbeats) stays free.
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const options = { chunkTokens: deps.chunkTokens, overlapTokens: deps.chunkOverlapTokens };
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
        try {
          prepared = deps.documents
            ? await deps.documents.prepare(row.kind, bytes, options, ctx.cancellationSignal)
            : await prepareDocument(row.kind, bytes, options);
        } finally {
          clearInterval(beat);
        }
      } catch (error) {
        if (error instanceof DocumentError) {
          log.info({ code: error.code }, 'document cannot be read');
          throw ApplicationFailure.nonRetryable(error.message, error.code);
        }
        throw error;
      }
      if (prepared.chunks.length === 0) {
        throw ApplicationFailure.nonRetryable('The document contains no text', INGEST_FAILURE_TYPES.empty);
      }
      await report(file, 'chunk', 30);
      const written = await chunks.replaceFileChunks({
        fileId: file.fileId,
        userId: file.userId,
        chunks: prepared.chunks,
      });
      await report(file, 'chunk', 50);
      log.info({ chunks: written, characters: prepared.characters, bytes: data.length }, 'document chunked');
      return {
        chunks: written,
        characters: prepared.characters,
        ...(prepared.pages !== undefined ? { pages: prepared.pages } : {}),
      };
    },

    /**
     * Embeds the file's chunks in batches, in `seq` order, storing each batch's vectors before the next call. The
     * heartbeat after each batch records where it got to; a retry (this worker died, the provider failed) resumes
     * after the last batch stored. Skipped, and reported as such, when no embedding provider is configured.
     */
    async embedChunks(file: IngestFileRef): Promise<EmbeddedChunks> {
      const embeddings = deps.embeddings;
      if (!embeddings) return { skipped: true, embedded: 0 };
      const log = logFor(file, 'embedChunks');
      const ctx = Context.current();
      const repo = db.getRepository(FileChunkEntity);
      const checkpoint = ctx.info.heartbeatDetails as EmbedCheckpoint | undefined;
      let lastSeq = typeof checkpoint?.lastSeq === 'number' ? checkpoint.lastSeq : -1;
      const total = await repo.countBy({ fileId: file.fileId, userId: file.userId });
      let done = lastSeq < 0 ? 0 : total - (await repo.countBy({ fileId: file.fileId, seq: MoreThan(lastSeq) }));
      if (lastSeq >= 0) log.info({ lastSeq, done }, 'resuming embeddings after the last stored batch');
      await report(file, 'embed', 50 + (40 * done) / Math.max(total, 1));

      // Liveness while a provider call is slow (the heartbeat after each batch carries the checkpoint).
      const beat = setInterval(() => ctx.heartbeat({ lastSeq } satisfies EmbedCheckpoint), HEARTBEAT_MS);
      try {
        for (;;) {
          // Cancelled (the file was deleted, the worker is stopping): stop calling the provider; a retry resumes.
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('Embedding was cancelled');
          const batch = await repo.find({
            select: { id: true, seq: true, content: true },
            where: { fileId: file.fileId, userId: file.userId, seq: MoreThan(lastSeq) },
            order: { seq: 'ASC' },
            take: embeddings.batchSize,
          });
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
          await report(file, 'embed', 50 + (40 * done) / Math.max(total, 1));
        }
      } finally {
        clearInterval(beat);
      }
      await deps.versions?.bump(file.userId);
      log.info({ embedded: done, model: embeddings.model }, 'chunks embedded');
      return { skipped: false, embedded: done, model: embeddings.model };
    },

    async markReady(args: IngestFileRef & { chunks: number; embeddingModel: string | null }): Promise<void> {
      const updated = await files().update(
        { id: args.fileId, userId: args.userId, status: 'processing' },
        {
          status: 'ready',
          progress: 100,
          stage: null,
          chunkCount: args.chunks,
          embeddingModel: args.embeddingModel,
          errorCode: null,
          errorDetail: null,
        },
      );
      if ((updated.affected ?? 0) === 0) {
        // Deleted (or already marked) while it was being ingested: a retry of this step finds it ready and says so.
        const row = await files().findOneBy({ id: args.fileId, userId: args.userId });
        if (!row) throw gone(args);
        if (row.status !== 'ready') {
          throw ApplicationFailure.nonRetryable(`The file is ${row.status}, not processing`, 'file_not_processing');
        }
      }
      logFor(args, 'markReady').info({ chunks: args.chunks }, 'file ready');
    },

    async markFailed(args: IngestFileRef & { code: string; detail: string }): Promise<void> {
      await files().update(
        { id: args.fileId, userId: args.userId },
        { status: 'failed', stage: null, errorCode: args.code.slice(0, 64), errorDetail: args.detail.slice(0, 1000) },
      );
      logFor(args, 'markFailed').warn({ code: args.code }, 'file marked failed');
    },

    /**
     * Removes everything an abandoned upload may have left: the object and the row. Idempotent: each may already be
     * gone (the API cleans up after a failure it saw itself). There are no chunks yet: they are written only after
     * the upload finished.
     */
    async discardUpload(file: IngestFileRef): Promise<void> {
      const row = await files().findOneBy({ id: file.fileId, userId: file.userId });
      await store.delete(row?.storageKey ?? objectKeyFor(file.userId, file.fileId));
      await files().delete({ id: file.fileId, userId: file.userId });
      logFor(file, 'discardUpload').info({ hadRow: Boolean(row) }, 'abandoned upload removed');
    },

    /** One audit row per file and action; a retried activity does not add a second. */
    async recordAudit(args: IngestFileRef & { action: string; metadata?: Record<string, unknown> }): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = tx.getRepository(AuditLogEntity);
        if (await repo.exists({ where: { action: args.action, targetType: 'file', targetId: args.fileId } })) return;
        await repo.insert({
          actorId: args.userId,
          action: args.action,
          targetType: 'file',
          targetId: args.fileId,
          requestId: args.requestId,
          metadata: args.metadata ?? null,
        } as QueryDeepPartialEntity<AuditLogEntity>);
      });
    },
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;

/** Reads a stream into memory, refusing more than `maxBytes` (the extractors need the whole document anyway). */
export async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of stream) {
    const buffer = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) {
      stream.destroy();
      throw ApplicationFailure.nonRetryable(
        `The stored file is larger than ${maxBytes} bytes`,
        INGEST_FAILURE_TYPES.tooLarge,
      );
    }
    parts.push(buffer);
  }
  return Buffer.concat(parts, size);
}
