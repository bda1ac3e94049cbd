import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { type LogContext, runWithLogContext } from '#libs/logging/log-context';

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
 * Every log line an activity writes carries its workflow, activity type and attempt, and the turn, file or replay it
 * works on, with no logger passed around for it (the log context, see libs/logging/log-context.ts).
 */
export const activityLogContext: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute: (input, next) => {
      const { workflowExecution, activityType, attempt } = ctx.info;
      const workflowId = workflowExecution?.workflowId ?? '';
      return runWithLogContext(
        {
          workflowId,
          activity: activityType,
          attempt,
          ...subjectOf(workflowId),
        },
        () => next(input),
      );
    },
  },
});
