import { continueAsNew, defineQuery, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { IngestActivities } from '#activities/ingest.activities';
import type { MaintenanceActivities } from '#activities/maintenance.activities';
import { NON_RETRYABLE_INGEST_FAILURES } from '#libs/contracts/ingest-file.contract';
import {
  MAINTENANCE_FAILURE_TYPES,
  MAINTENANCE_ITEMS_PER_RUN,
  REEMBED_CONCURRENCY,
  REEMBED_PROGRESS_QUERY,
} from '#libs/contracts/maintenance.contract';
import type { ReembedFilesInput, ReembedProgress } from '#libs/contracts/maintenance.contract';
import { typedFailureOf } from '#libs/contracts/temporal-failure';

export const reembedProgressQuery = defineQuery<ReembedProgress>(REEMBED_PROGRESS_QUERY);

/** Reading and recording: short database steps. */
const { planReembedding, nextFilesToReembed, recordReembedded, recordMaintenanceAudit } =
  proxyActivities<MaintenanceActivities>({
    startToCloseTimeout: '1 minute',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 10,
      nonRetryableErrorTypes: [MAINTENANCE_FAILURE_TYPES.embeddingsOff],
    },
  });

/** The ingest workflow's own embedding step, with its timeouts: batches with heartbeats, resuming after a crash. */
const { embedChunks } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '30 minutes',
  // It beats every 5 s even while a provider call is slow: a dead worker is noticed in 20 s, not minutes later.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE_INGEST_FAILURES,
  },
});

/** Failures listed in the progress (the count goes on past it). */
const FAILURES_SHOWN = 20;

/**
 * Brings every ready file's vectors to the configured embedding model (or all of them, `all`), after
 * EMBEDDING_MODEL changed: files in id order, a few side by side, each through `embedChunks` and then recorded with
 * its new model. A file that cannot be embedded is counted and listed, and the run goes on. Progress is the
 * `reembedProgress` query; the run continues as new every few hundred files, carrying its progress and place.
 */
export async function reembedFiles(input: ReembedFilesInput): Promise<ReembedProgress> {
  const progress: ReembedProgress = input.progress ?? {
    status: 'running',
    model: '',
    total: 0,
    done: 0,
    failed: 0,
    failures: [],
  };
  setHandler(reembedProgressQuery, () => progress);
  if (!input.progress) Object.assign(progress, await planReembedding({ all: input.all }));
  const { workflowId, firstExecutionRunId } = workflowInfo();

  const reembedOne = async (file: { fileId: string; userId: string }): Promise<void> => {
    try {
      const embedded = await embedChunks({ ...file, requestId: workflowId });
      if (embedded.model) await recordReembedded({ ...file, model: embedded.model });
      progress.done += 1;
    } catch (error) {
      progress.failed += 1;
      const reason = typedFailureOf(error)?.message ?? 'the embedding step failed';
      if (progress.failures.length < FAILURES_SHOWN) progress.failures.push({ fileId: file.fileId, reason });
      log.warn('a file could not be re-embedded', { fileId: file.fileId, reason });
    }
  };

  let after = input.afterFileId;
  let handled = 0;
  for (;;) {
    const page = await nextFilesToReembed({ all: input.all, limit: REEMBED_CONCURRENCY * 8, afterFileId: after });
    if (page.files.length === 0) break;
    progress.model = page.model;
    for (let start = 0; start < page.files.length; start += REEMBED_CONCURRENCY) {
      await Promise.all(page.files.slice(start, start + REEMBED_CONCURRENCY).map(reembedOne));
    }
    after = page.files.at(-1)!.fileId;
    handled += page.files.length;
    if (handled >= MAINTENANCE_ITEMS_PER_RUN) {
      await continueAsNew<typeof reembedFiles>({ ...input, afterFileId: after, progress });
    }
  }

  progress.status = 'completed';
  await recordMaintenanceAudit({
    action: 'files.reembedded',
    targetType: 'workflow_run',
    targetId: firstExecutionRunId,
    requestedBy: input.requestedBy,
    metadata: {
      workflowId,
      model: progress.model,
      total: progress.total,
      done: progress.done,
      failed: progress.failed,
    },
  });
  return progress;
}
