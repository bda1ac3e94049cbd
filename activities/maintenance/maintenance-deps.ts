import type { AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import type { Logger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import type { ObjectStore } from '#libs/storage/object-store';

/** Everything the operator's batch workflows (re-embedding, purges) need; each factory takes only its own part. */
export interface MaintenanceActivityDeps {
  db: Database;
  audit: Pick<AuditWriter, 'recordOnce'>;
  store: ObjectStore;
  chunks: ChunkStore;
  logger: Logger;
  /** The configured embedding model; absent when no embedding provider is configured. */
  embeddingModel?: string;
}
