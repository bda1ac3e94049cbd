import { ApplicationFailure } from '@temporalio/activity';
import type { IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { activityLogger } from './activity-logger';
import { fileGone } from './file-gone.failure';
import type { IngestActivityDeps } from './ingest-deps';

export type MarkReadyDeps = Pick<IngestActivityDeps, 'logger'> & {
  db: { files: Pick<FileRepository, 'markReady' | 'findOwned'> };
};

export function createMarkReady(deps: MarkReadyDeps) {
  const { db } = deps;
  return {
    /** `processing` → `ready` with its chunk count and embedding model. A retry that finds it ready is done. */
    async markReady(args: IngestFileRef & { chunks: number; embeddingModel: string | null }): Promise<void> {
      const marked = await db.files.markReady(args.fileId, args.userId, {
        chunks: args.chunks,
        embeddingModel: args.embeddingModel,
      });
      if (!marked) {
        // Deleted (or already marked) while it was being ingested: a retry of this step finds it ready and says so.
        const row = await db.files.findOwned(args.fileId, args.userId);
        if (!row) throw fileGone(args);
        if (row.status !== 'ready') {
          throw ApplicationFailure.nonRetryable(`The file is ${row.status}, not processing`, 'file_not_processing');
        }
      }
      activityLogger(deps.logger, args, 'markReady').info({ chunks: args.chunks }, 'file ready');
    },
  };
}
