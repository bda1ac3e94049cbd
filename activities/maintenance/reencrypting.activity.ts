import type { ReencryptOutcome } from '#libs/contracts/reencrypt.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { EncryptedObjectStore } from '#libs/storage/encrypted-object-store';
import { ObjectNotFoundError } from '#libs/storage/object-store.errors';
import { objectKeyFor } from '#libs/storage/object-store';
import type { MaintenanceActivityDeps } from './maintenance-deps';

export type ReencryptingDeps = Pick<MaintenanceActivityDeps, 'store' | 'logger'> & {
  db: { files: Pick<FileRepository, 'readyForReembedding' | 'findOwned'> };
};

/** The steps of `reencryptFiles`: page through ready files, bring each object under the current master key. */
export function createReencrypting(deps: ReencryptingDeps) {
  const { db, store } = deps;
  return {
    /** The next ready files in id order after `afterFileId`. */
    async nextFilesToReencrypt(args: {
      afterFileId?: string;
      limit: number;
    }): Promise<{ fileId: string; userId: string }[]> {
      const files = await db.files.readyForReembedding(
        { model: '', all: true, ...(args.afterFileId ? { afterId: args.afterFileId } : {}) },
        args.limit,
      );
      return files.map((file) => ({ fileId: file.id, userId: file.userId }));
    },

    /**
     * Brings one file's object under the current master key, as cheaply as it can: an object sealed under an older key
     * keeps its bytes and gets its data key re-wrapped (a small key object beside it); a clear object from before
     * encryption is streamed out and back in sealed (the put replaces it only once every byte is stored, so a crash
     * leaves the old one). An object already under the current key is left alone, so a retried or resumed run redoes
     * nothing.
     */
    async reencryptFile(args: { fileId: string; userId: string }): Promise<ReencryptOutcome> {
      if (!(store instanceof EncryptedObjectStore)) throw new Error('FILES_ENCRYPTION_KEYS is not configured');
      const key = objectKeyFor(args.userId, args.fileId);
      let outcome: ReencryptOutcome;
      try {
        const state = await store.rewrap(key);
        if (state === 'current') return 'current';
        if (state === 'clear') await store.reseal(key);
        outcome = state === 'clear' ? 'rewritten' : 'rewrapped';
      } catch (error) {
        if (error instanceof ObjectNotFoundError) return 'gone';
        throw error;
      }
      // Deleted meanwhile: what was just written (the object, or its key object) would outlive the file, so it goes.
      if (!(await db.files.findOwned(args.fileId, args.userId))) {
        await store.delete(key);
        return 'gone';
      }
      return outcome;
    },
  };
}
