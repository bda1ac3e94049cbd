import type { IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { objectKeyFor, type ObjectStore } from '#libs/storage/object-store';
import { activityLogger } from './activity-logger';
import type { IngestActivityDeps } from './ingest-deps';

export type DiscardUploadDeps = Pick<IngestActivityDeps, 'logger'> & {
  db: { files: Pick<FileRepository, 'findOwned' | 'remove'> };
  store: Pick<ObjectStore, 'delete'>;
};

export function createDiscardUpload(deps: DiscardUploadDeps) {
  const { db, store } = deps;
  return {
    /**
     * Removes everything an abandoned upload may have left: the object and the row. Idempotent: each may already be
     * gone (the API cleans up after a failure it saw itself). There are no chunks yet: they are written only after
     * the upload finished.
     */
    async discardUpload(file: IngestFileRef): Promise<void> {
      const row = await db.files.findOwned(file.fileId, file.userId);
      await store.delete(row?.storageKey ?? objectKeyFor(file.userId, file.fileId));
      await db.files.remove(file.fileId, file.userId);
      activityLogger(deps.logger, file, 'discardUpload').info({ hadRow: Boolean(row) }, 'abandoned upload removed');
    },
  };
}
