import type { ReencryptOutcome } from '#libs/contracts/reencrypt.contract';
import type { FileRepository } from '#libs/db/repositories/file.repository';
import { EncryptedObjectStore } from '#libs/storage/encrypted-object-store';
import { ObjectNotFoundError } from '#libs/storage/object-store.errors';
import { objectKeyFor } from '#libs/storage/object-store';
import type { MaintenanceActivityDeps } from './maintenance-deps';

export type ReencryptingDeps = Pick<MaintenanceActivityDeps, 'store' | 'logger'> & {
  db: { files: Pick<FileRepository, 'readyForReembedding' | 'findOwned'> };
};

/** The steps of `reencryptFiles`: page through ready files, rewrite each object under the current master key. */
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
     * Streams the object through the store (opened with whatever key sealed it, or read clear) and back in, sealed
     * under the current key; a put replaces the object only once every byte is stored, so a crash leaves the old one.
     * An object already under the current key is left alone (a retried or resumed run redoes nothing).
     */
    async reencryptFile(args: { fileId: string; userId: string }): Promise<ReencryptOutcome> {
      if (!(store instanceof EncryptedObjectStore)) throw new Error('FILES_ENCRYPTION_KEYS is not configured');
      const key = objectKeyFor(args.userId, args.fileId);
      try {
        if ((await store.sealedWith(key)) === store.currentKeyId) return 'current';
        const size = (await store.stat(key))?.size;
        if (size === undefined) return 'gone';
        await store.put(key, await store.get(key), { maxBytes: Math.max(1, size) });
      } catch (error) {
        if (error instanceof ObjectNotFoundError) return 'gone';
        throw error;
      }
      // Deleted while it was rewritten: the put brought the object back, so take it away again.
      if (!(await db.files.findOwned(args.fileId, args.userId))) {
        await store.delete(key);
        return 'gone';
      }
      return 'rewritten';
    },
  };
}
