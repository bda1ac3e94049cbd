import type { IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { activityLogger } from './activity-logger';
import type { IngestActivityDeps } from './ingest-deps';

export type MarkFailedDeps = Pick<IngestActivityDeps, 'logger'> & {
  db: { files: Pick<FileRepository, 'markFailed'> };
};

export function createMarkFailed(deps: MarkFailedDeps) {
  const { db } = deps;
  return {
    /** Marks the file failed with the reason the user is shown (`GET /files/:id` `error`). */
    async markFailed(args: IngestFileRef & { code: string; detail: string }): Promise<void> {
      await db.files.markFailed(args.fileId, args.userId, { code: args.code, detail: args.detail });
      activityLogger(deps.logger, args, 'markFailed').warn({ code: args.code }, 'file marked failed');
    },
  };
}
