import { ApplicationFailure } from '@temporalio/activity';
import { MAINTENANCE_FAILURE_TYPES, type PurgeBatch, type PurgeTarget } from '#libs/contracts/maintenance.contract';
import type { MaintenanceActivityDeps } from './maintenance-deps';

export type PurgingDeps = Pick<MaintenanceActivityDeps, 'db' | 'audit' | 'store' | 'chunks' | 'logger'>;

/**
 * The steps of a purge. Each removes one thing and writes its audit row (once, keyed by what it removed), so a
 * retried step or a replayed run neither fails on what is already gone nor logs it twice.
 */
export function createPurging(deps: PurgingDeps) {
  const { db, audit, store, chunks } = deps;
  const operator = (purgeId: string, requestedBy: string, extra: Record<string, unknown> = {}) => ({
    actorId: null,
    metadata: { purgeId, by: requestedBy, ...extra },
  });

  return {
    /** A user purge needs the account to exist and be disabled (no new data arrives, its sessions have ended). */
    async checkPurgeTarget(args: { target: PurgeTarget }): Promise<void> {
      if (args.target.kind !== 'user') return;
      const user = await db.users.findStanding(args.target.userId);
      if (user && !user.disabled) {
        throw ApplicationFailure.nonRetryable(
          'The account is enabled: disable it first (gigachat disable-user), which also ends its sessions',
          MAINTENANCE_FAILURE_TYPES.accountEnabled,
        );
      }
    },

    /** The next files and conversations to remove: files first, so no stored object outlives its row. */
    async nextToPurge(args: { target: PurgeTarget; limit: number }): Promise<PurgeBatch> {
      const { target, limit } = args;
      const files =
        target.kind === 'user'
          ? await db.files.ownedBy(target.userId, limit)
          : await db.files.uploadedBefore(new Date(target.cutoff), limit);
      const room = limit - files.length;
      const conversationIds =
        room <= 0
          ? []
          : target.kind === 'user'
            ? await db.conversations.idsOwnedBy(target.userId, room)
            : await db.conversations.idsInactiveSince(new Date(target.cutoff), room);
      return { files: files.map((file) => ({ fileId: file.id, userId: file.userId })), conversationIds };
    },

    /** Removes a file's bytes, chunks, vectors and row; false when it was already gone. */
    async purgeFile(args: { fileId: string; userId: string; purgeId: string; requestedBy: string }): Promise<boolean> {
      const file = await db.files.findOwned(args.fileId, args.userId);
      if (!file) return false;
      await store.delete(file.storageKey);
      await chunks.deleteFileChunks(file.id, file.userId);
      return db.transaction(async (tx) => {
        const removed = await tx.files.remove(file.id, file.userId);
        await audit.recordOnce(
          {
            ...operator(args.purgeId, args.requestedBy, { ownerId: file.userId, size: file.size }),
            action: 'file.purged',
            targetType: 'file',
            targetId: file.id,
          },
          tx,
        );
        return removed;
      });
    },

    /** Removes a conversation with its messages, turns, shares and feedback; false when it was already gone. */
    async purgeConversation(args: { conversationId: string; purgeId: string; requestedBy: string }): Promise<boolean> {
      return db.transaction(async (tx) => {
        const conversation = await tx.conversations.findById(args.conversationId, { lock: true });
        if (!conversation) return false;
        await tx.conversations.delete(conversation.id);
        await audit.recordOnce(
          {
            ...operator(args.purgeId, args.requestedBy, { ownerId: conversation.ownerId }),
            action: 'conversation.purged',
            targetType: 'conversation',
            targetId: conversation.id,
          },
          tx,
        );
        return true;
      });
    },

    /** Deletes the (disabled) account once everything it owned is gone; false when it was already gone. */
    async purgeAccount(args: { userId: string; purgeId: string; requestedBy: string }): Promise<boolean> {
      return db.transaction(async (tx) => {
        const user = await tx.users.findById(args.userId, { lock: true });
        if (!user) return false;
        if (!user.disabled) {
          throw ApplicationFailure.nonRetryable(
            'The account was enabled again',
            MAINTENANCE_FAILURE_TYPES.accountEnabled,
          );
        }
        await tx.users.remove(user.id);
        await audit.recordOnce(
          { ...operator(args.purgeId, args.requestedBy), action: 'user.purged', targetType: 'user', targetId: user.id },
          tx,
        );
        return true;
      });
    },
  };
}
