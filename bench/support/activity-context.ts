import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { noopMetricMeter, type Logger as SdkLogger } from '@temporalio/common';

/**
 * Runs an activity function outside a worker, with a minimal activity `Context` so `Context.current()` works
 * (heartbeats are dropped, nothing is ever cancelled). `@temporalio/testing`'s MockActivityEnvironment does the same
 * thing but is not a dependency; this uses only the public `Context` constructor and `asyncLocalStorage` of
 * `@temporalio/activity`.
 */
export function runAsActivity<T>(
  activityType: string,
  fn: () => Promise<T>,
  options: ActivityOptions = {},
): Promise<T> {
  const now = Date.now();
  const info: Info = {
    taskToken: new Uint8Array(0),
    base64TaskToken: '',
    activityId: `${activityType}-${++sequence}`,
    activityType,
    activityNamespace: 'default',
    namespace: 'default',
    attempt: 1,
    isLocal: false,
    scheduledTimestampMs: now,
    currentAttemptScheduledTimestampMs: now,
    scheduleToCloseTimeoutMs: 0,
    startToCloseTimeoutMs: options.startToCloseTimeoutMs ?? 60_000,
    ...(options.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: options.heartbeatTimeoutMs }),
    heartbeatDetails: undefined,
    taskQueue: 'in-process',
    inWorkflow: false,
  };
  const context = new Context(info, NEVER, NOT_CANCELLED, () => undefined, undefined, quietLogger, noopMetricMeter, {});
  return asyncLocalStorage.run(context, fn);
}

export interface ActivityOptions {
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
}

let sequence = 0;
/** Shared by every fake context: never settles, so no handler is ever needed. */
const NEVER = new Promise<never>(() => undefined);
const NOT_CANCELLED = new AbortController().signal;
const quiet = (): void => undefined;
const quietLogger: SdkLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
