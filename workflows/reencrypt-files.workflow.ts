import { continueAsNew, defineQuery, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { MaintenanceActivities } from '#activities/maintenance.activities';
import { MAINTENANCE_ITEMS_PER_RUN } from '#libs/contracts/maintenance.contract';
import {
  REENCRYPT_CONCURRENCY,
  REENCRYPT_PROGRESS_QUERY,
  type ReencryptFilesInput,
  type ReencryptProgress,
} from '#libs/contracts/reencrypt.contract';
import { typedFailureOf } from '#libs/contracts/temporal-failure';

export const reencryptProgressQuery = defineQuery<ReencryptProgress>(REENCRYPT_PROGRESS_QUERY);

const { nextFilesToReencrypt, recordMaintenanceAudit } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Streaming a file (at most FILE_MAX_BYTES) out of the store and back in. */
const { reencryptFile } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

const FAILURES_SHOWN = 20;

/**
 * Brings every ready file's object under the current master key of FILES_ENCRYPTION_KEYS: clear objects stored
 * before encryption are rewritten sealed; objects under an older key get their data key re-wrapped, their bytes
 * untouched (run it before retiring that key). Files in id order, a few side
 * by side; one that fails is counted and listed and the run goes on. Progress is the `reencryptProgress` query; the
 * run continues as new every few hundred files.
 */
export async function reencryptFiles(input: ReencryptFilesInput): Promise<ReencryptProgress> {
  const progress: ReencryptProgress = input.progress ?? {
    status: 'running',
    seen: 0,
    rewritten: 0,
    rewrapped: 0,
    current: 0,
    failed: 0,
    failures: [],
  };
  setHandler(reencryptProgressQuery, () => progress);
  const { workflowId, firstExecutionRunId } = workflowInfo();

  const one = async (file: { fileId: string; userId: string }): Promise<void> => {
    try {
      const outcome = await reencryptFile(file);
      if (outcome === 'rewritten') progress.rewritten += 1;
      else if (outcome === 'rewrapped') progress.rewrapped = (progress.rewrapped ?? 0) + 1;
      else if (outcome === 'current') progress.current += 1;
    } catch (error) {
      progress.failed += 1;
      const reason = typedFailureOf(error)?.message ?? 'the object could not be rewritten';
      if (progress.failures.length < FAILURES_SHOWN) progress.failures.push({ fileId: file.fileId, reason });
      log.warn('a file could not be re-encrypted', { fileId: file.fileId, reason });
    }
    progress.seen += 1;
  };

  let after = input.afterFileId;
  let handled = 0;
  for (;;) {
    const page = await nextFilesToReencrypt({ limit: REENCRYPT_CONCURRENCY * 8, afterFileId: after });
    if (page.length === 0) break;
    for (let start = 0; start < page.length; start += REENCRYPT_CONCURRENCY) {
      await Promise.all(page.slice(start, start + REENCRYPT_CONCURRENCY).map(one));
    }
    after = page.at(-1)!.fileId;
    handled += page.length;
    if (handled >= MAINTENANCE_ITEMS_PER_RUN) {
      await continueAsNew<typeof reencryptFiles>({ ...input, afterFileId: after, progress });
    }
  }

  progress.status = 'completed';
  await recordMaintenanceAudit({
    action: 'files.reencrypted',
    targetType: 'workflow_run',
    targetId: firstExecutionRunId,
    requestedBy: input.requestedBy,
    metadata: {
      workflowId,
      seen: progress.seen,
      rewritten: progress.rewritten,
      rewrapped: progress.rewrapped ?? 0,
      failed: progress.failed,
    },
  });
  return progress;
}
