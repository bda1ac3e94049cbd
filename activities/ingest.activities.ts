import { createDiscardUpload } from './ingest/discard-upload.activity';
import { createEmbedChunks } from './ingest/embed-chunks.activity';
import { createExtractAndChunk } from './ingest/extract-and-chunk.activity';
import type { IngestActivityDeps } from './ingest/ingest-deps';
import { createMarkFailed } from './ingest/mark-failed.activity';
import { createMarkReady } from './ingest/mark-ready.activity';
import { createRecordAudit } from './ingest/record-audit.activity';

export type { Embedder, IngestActivityDeps } from './ingest/ingest-deps';

/**
 * The ingestFile activities, built from their dependencies: the worker passes real clients, tests may pass others.
 * Each is a small function doing one I/O job; their names are part of recorded workflow histories and never change.
 */
export function createIngestActivities(deps: IngestActivityDeps) {
  return {
    ...createExtractAndChunk(deps),
    ...createEmbedChunks(deps),
    ...createMarkReady(deps),
    ...createMarkFailed(deps),
    ...createDiscardUpload(deps),
    ...createRecordAudit(deps),
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;
