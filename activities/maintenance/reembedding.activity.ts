import { ApplicationFailure } from '@temporalio/activity';
import { MAINTENANCE_FAILURE_TYPES, type ReembedPage } from '#libs/contracts/maintenance.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import type { MaintenanceActivityDeps } from './maintenance-deps';

export type ReembeddingDeps = Pick<MaintenanceActivityDeps, 'embeddingModel' | 'logger'> & {
  db: { files: Pick<FileRepository, 'countReadyForReembedding' | 'readyForReembedding' | 'recordEmbeddingModel'> };
};

/**
 * The bookkeeping around re-embedding; the embedding itself is the ingest workflow's `embedChunks`, which replaces a
 * file's vectors batch by batch (idempotent, resuming after a crash) and tells vector caches to reload.
 */
export function createReembedding(deps: ReembeddingDeps) {
  const { db } = deps;
  const modelOrFail = (): string => {
    if (deps.embeddingModel) return deps.embeddingModel;
    throw ApplicationFailure.nonRetryable(
      'No embedding provider is configured (EMBEDDING_BASE_URL): there is nothing to re-embed with',
      MAINTENANCE_FAILURE_TYPES.embeddingsOff,
    );
  };

  return {
    /** The model files are brought to and how many need it; fails (for good) when embeddings are off. */
    async planReembedding(args: { all: boolean }): Promise<{ model: string; total: number }> {
      const model = modelOrFail();
      return { model, total: await db.files.countReadyForReembedding({ model, all: args.all }) };
    },

    /** The next ready files to re-embed, in id order after `afterFileId`. */
    async nextFilesToReembed(args: { all: boolean; afterFileId?: string; limit: number }): Promise<ReembedPage> {
      const model = modelOrFail();
      const files = await db.files.readyForReembedding(
        { model, all: args.all, ...(args.afterFileId ? { afterId: args.afterFileId } : {}) },
        args.limit,
      );
      return { model, files: files.map((file) => ({ fileId: file.id, userId: file.userId })) };
    },

    /** Records that the file's vectors now come from `model`; false when the file went away meanwhile. */
    async recordReembedded(args: { fileId: string; userId: string; model: string }): Promise<boolean> {
      return db.files.recordEmbeddingModel(args.fileId, args.userId, args.model);
    },
  };
}
