import { continueAsNew, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { MaintenanceActivities } from '#activities/maintenance.activities';
import {
  MAINTENANCE_FAILURE_TYPES,
  MAINTENANCE_ITEMS_PER_RUN,
  PURGE_PROGRESS_QUERY,
} from '#libs/contracts/maintenance.contract';
import type { PurgeDataInput, PurgeProgress } from '#libs/contracts/maintenance.contract';

export const purgeProgressQuery = defineQuery<PurgeProgress>(PURGE_PROGRESS_QUERY);

/** Database and object-store deletions: idempotent, so retried freely. */
const { checkPurgeTarget, nextToPurge, purgeFile, purgeConversation, purgeAccount, recordMaintenanceAudit } =
  proxyActivities<MaintenanceActivities>({
    startToCloseTimeout: '2 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 20,
      nonRetryableErrorTypes: [MAINTENANCE_FAILURE_TYPES.accountEnabled],
    },
  });

/** Deletions side by side. */
const PURGE_CONCURRENCY = 4;
const PURGE_BATCH = 50;

/**
 * Removes what an operator asked to purge: every file uploaded and every conversation last active before a cutoff,
 * or everything a disabled user owns and then the account. Files go first (bytes, chunks, vectors, row), then
 * conversations (messages, turns, shares, feedback with them). Every removal is audited (`file.purged`,
 * `conversation.purged`, `user.purged`) and the run's outcome too (`purge.completed`). Progress is the
 * `purgeProgress` query; the run continues as new every few hundred items.
 */
export async function purgeData(input: PurgeDataInput): Promise<PurgeProgress> {
  const progress: PurgeProgress = input.progress ?? {
    status: 'running',
    conversations: 0,
    files: 0,
    accountDeleted: false,
  };
  setHandler(purgeProgressQuery, () => progress);
  const { purgeId, target, requestedBy } = input;
  if (!input.progress) await checkPurgeTarget({ target });

  let handled = 0;
  for (;;) {
    const batch = await nextToPurge({ target, limit: PURGE_BATCH });
    if (batch.files.length === 0 && batch.conversationIds.length === 0) break;
    const steps = [
      ...batch.files.map((file) => async () => {
        if (await purgeFile({ ...file, purgeId, requestedBy })) progress.files += 1;
      }),
      ...batch.conversationIds.map((conversationId) => async () => {
        if (await purgeConversation({ conversationId, purgeId, requestedBy })) progress.conversations += 1;
      }),
    ];
    for (let start = 0; start < steps.length; start += PURGE_CONCURRENCY) {
      await Promise.all(steps.slice(start, start + PURGE_CONCURRENCY).map((step) => step()));
    }
    handled += steps.length;
    if (handled >= MAINTENANCE_ITEMS_PER_RUN) await continueAsNew<typeof purgeData>({ ...input, progress });
  }

  if (target.kind === 'user')
    progress.accountDeleted = await purgeAccount({ userId: target.userId, purgeId, requestedBy });
  progress.status = 'completed';
  await recordMaintenanceAudit({
    action: 'purge.completed',
    targetType: 'purge',
    targetId: purgeId,
    requestedBy,
    metadata: {
      target: target.kind === 'user' ? { kind: 'user', userId: target.userId } : target,
      conversations: progress.conversations,
      files: progress.files,
      accountDeleted: progress.accountDeleted,
    },
  });
  return progress;
}
