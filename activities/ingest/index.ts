import { createDiscardUpload } from './discard-upload.activity';
import { createEmbedChunks } from './embed-chunks.activity';
import { createExtractAndChunk } from './extract-and-chunk.activity';
import type { IngestActivityDeps } from './ingest-deps';
import { createMarkFailed } from './mark-failed.activity';
import { createMarkReady } from './mark-ready.activity';
import { createRecordAudit } from './record-audit.activity';

export type { Embedder, IngestActivityDeps } from './ingest-deps';

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
