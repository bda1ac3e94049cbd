import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Readable } from 'node:stream';
import { INGEST_FAILURE_TYPES } from '#libs/contracts/ingest-file.contract';
import type { ExtractedChunks, IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { DocumentError } from '#libs/documents/document.error';
import { prepareDocument, type PreparedDocument } from '#libs/documents/prepare-document';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import type { ObjectStore } from '#libs/storage/object-store';
import { ObjectNotFoundError } from '#libs/storage/object-store.errors';
import { activityLogger } from './activity-logger';
import { fileGone } from './file-gone.failure';
import type { IngestActivityDeps } from './ingest-deps';

export type ExtractAndChunkDeps = Pick<
  IngestActivityDeps,
  'logger' | 'documents' | 'maxBytes' | 'chunkTokens' | 'chunkOverlapTokens' | 'onChunked'
> & {
  db: { files: Pick<FileRepository, 'findOwned' | 'reportProgress'> };
  store: Pick<ObjectStore, 'get'>;
  chunks: Pick<ChunkStore, 'replaceFileChunks'>;
};

/** How often extraction reports liveness while its document is prepared on the thread pool. */
const HEARTBEAT_MS = 5_000;

export function createExtractAndChunk(deps: ExtractAndChunkDeps) {
  const { db, store, chunks } = deps;
  return {
    /**
     * Reads the object, extracts its text and writes its chunks (without vectors). Only counts go back to the
     * workflow, so no document text ever enters its history. A document that cannot be read fails for good with its
     * DocumentError code as the failure type.
     */
    async extractAndChunk(file: IngestFileRef): Promise<ExtractedChunks> {
      const log = activityLogger(deps.logger, file, 'extractAndChunk');
      const row = await db.files.findOwned(file.fileId, file.userId);
      if (!row) throw fileGone(file);
      await db.files.reportProgress(file.fileId, file.userId, 'extract', 10);
      let data: Buffer;
      try {
        data = await readAll(await store.get(row.storageKey), deps.maxBytes);
      } catch (error) {
        if (error instanceof ObjectNotFoundError) throw fileGone(file);
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
      await db.files.reportProgress(file.fileId, file.userId, 'chunk', 30);
      const written = await chunks.replaceFileChunks({
        fileId: file.fileId,
        userId: file.userId,
        chunks: prepared.chunks,
      });
      await db.files.reportProgress(file.fileId, file.userId, 'chunk', 50);
      log.info({ chunks: written, characters: prepared.characters, bytes: data.length }, 'document chunked');
      deps.onChunked?.({ kind: row.kind, bytes: data.length, chunks: written });
      return {
        chunks: written,
        characters: prepared.characters,
        ...(prepared.pages !== undefined ? { pages: prepared.pages } : {}),
      };
    },
  };
}

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
