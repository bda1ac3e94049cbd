import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { type LogContext, runWithLogContext } from '#libs/logging/log-context';
import type { WorkerMetrics } from '#libs/metrics/metrics';

/** The turn, file or replay a workflow id names (`turn:<id>`, `ingest:<id>`, `replay:<id>[:<conversation>]`). */
export function subjectOf(workflowId: string): LogContext {
  const [kind, id] = workflowId.split(':');
  if (!id) return {};
  if (kind === 'turn') return { turnId: id };
  if (kind === 'ingest') return { fileId: id };
  if (kind === 'replay') return { replayId: id };
  return {};
}

/**
 * Around every activity attempt: its log lines carry its workflow, activity type and attempt, and the turn, file or
 * replay it works on, with no logger passed around for it (the log context, see libs/logging/log-context.ts); and its
 * duration by outcome and its wait in the task queue go to the worker's metrics. Activity types are a fixed set, so
 * the labels stay bounded.
 */
export function activityObserver(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      execute: (input, next) => {
        const { workflowExecution, activityType, attempt, currentAttemptScheduledTimestampMs } = ctx.info;
        const workflowId = workflowExecution?.workflowId ?? '';
        const startedAt = Date.now();
        if (currentAttemptScheduledTimestampMs) {
          metrics.activityQueueSeconds.observe(
            { activity: activityType },
            Math.max(0, startedAt - currentAttemptScheduledTimestampMs) / 1000,
          );
        }
        const done = (outcome: string) =>
          metrics.activitySeconds.observe({ activity: activityType, outcome }, (Date.now() - startedAt) / 1000);
        return runWithLogContext({ workflowId, activity: activityType, attempt, ...subjectOf(workflowId) }, () =>
          next(input),
        ).then(
          (result) => {
            done('completed');
            return result;
          },
          (error: unknown) => {
            done(error instanceof CancelledFailure ? 'cancelled' : 'failed');
            throw error;
          },
        );
      },
    },
  });
}
