import type { AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import type { DocumentPool } from '#libs/documents/document-pool';
import type { Logger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import type { IndexVersions } from '#libs/retrieval/index-versions';
import type { ObjectStore } from '#libs/storage/object-store';

/** The part of an embedding client the activities use. */
export interface Embedder {
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Everything the ingestFile activities need; each activity's factory takes only its own part. */
export interface IngestActivityDeps {
  db: Database;
  /** The audit log's one writer, over the same database. */
  audit: Pick<AuditWriter, 'recordOnce'>;
  store: ObjectStore;
  /** The file chunks and their vectors. */
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
  versions?: Pick<IndexVersions, 'bump'>;
  /** Told of each document extracted and chunked (the worker's metrics: bytes and chunks ingested by kind). */
  onChunked?: (document: { kind: string; bytes: number; chunks: number }) => void;
}
