import type { Client, WorkflowHandle } from '@temporalio/client';
import { round1, summarize } from './stats';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** temporal.api.enums.v1.EventType values used here. */
export const EVENT = {
  workflowStarted: 1,
  workflowTaskScheduled: 5,
  workflowTaskStarted: 6,
  workflowTaskCompleted: 7,
  activityScheduled: 10,
  activityStarted: 11,
  activityCompleted: 12,
  workflowCompleted: 2,
  updateCompleted: 43,
} as const;

/** One turn sent through the API, with wall-clock times (epoch ms) taken on this machine around the request. */
export interface ClientTiming {
  workflowId: string;
  sentAtMs: number;
  receivedAtMs: number;
}

/** Where the time of one API turn went, in ms, segment by segment in the order they happen. */
export type TurnSegments = Record<string, number>;

export const CLIENT_TO_START = 'request → workflow started (HTTP, auth, turn rows, start RPC)';
export const WFT_QUEUE = 'workflow tasks: waiting for the worker';
export const WFT_RUN = 'workflow tasks: on the worker (incl. local activities)';
export const OTHER_IN_SERVER = 'other time inside Temporal';
export const UPDATE_TO_CLIENT = 'answer ready (workflow or update completed) → response received';

/**
 * Reads a turn's workflow history and splits the time between sending the request and receiving the answer into:
 * the way in (HTTP, the API's own work, the start RPC), workflow tasks (queued/running; local activities run inside
 * them), each regular activity (queued/running), and the way back. Event times are the server's clock; this machine runs the server, so they compare.
 * The answer is ready when the workflow completes (what the API waits for since 2026-12-05) or, in runs whose client
 * waited on the `turnResult` update, when that update completed: whichever comes first ends the count.
 */
export async function turnSegments(temporal: Client, timing: ClientTiming): Promise<TurnSegments> {
  const history = await temporal.workflow.getHandle(timing.workflowId).fetchHistory();
  const events = history.events ?? [];
  const started = events.find((event) => Number(event.eventType) === EVENT.workflowStarted);
  const updated = events.find((event) => {
    const type = Number(event.eventType);
    return type === EVENT.updateCompleted || type === EVENT.workflowCompleted;
  });
  if (!started || !updated) throw new Error(`${timing.workflowId}: no start or no completion in its history`);
  const startMs = eventMs(started);
  const endMs = eventMs(updated);

  const segments: TurnSegments = {};
  const add = (name: string, ms: number): void => {
    segments[name] = (segments[name] ?? 0) + ms;
  };
  const wftScheduled = new Map<string, number>();
  const wftStarted = new Map<string, number>();
  const activityScheduled = new Map<string, { name: string; at: number }>();
  const activityStarted = new Map<string, number>();
  for (const event of events) {
    const at = eventMs(event);
    if (at > endMs) break;
    switch (Number(event.eventType)) {
      case EVENT.workflowTaskScheduled:
        wftScheduled.set(String(event.eventId), at);
        break;
      case EVENT.workflowTaskStarted:
        wftStarted.set(String(event.workflowTaskStartedEventAttributes?.scheduledEventId), at);
        break;
      case EVENT.workflowTaskCompleted: {
        const id = String(event.workflowTaskCompletedEventAttributes?.scheduledEventId);
        const scheduledAt = wftScheduled.get(id);
        const startedAt = wftStarted.get(id);
        if (scheduledAt !== undefined && startedAt !== undefined) {
          add(WFT_QUEUE, startedAt - scheduledAt);
          add(WFT_RUN, at - startedAt);
        }
        break;
      }
      case EVENT.activityScheduled:
        activityScheduled.set(String(event.eventId), {
          name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity',
          at,
        });
        break;
      case EVENT.activityStarted:
        activityStarted.set(String(event.activityTaskStartedEventAttributes?.scheduledEventId), at);
        break;
      case EVENT.activityCompleted: {
        const id = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        const scheduled = activityScheduled.get(id);
        const startedAt = activityStarted.get(id);
        if (scheduled && startedAt !== undefined) {
          add(`${scheduled.name}: waiting for the worker`, startedAt - scheduled.at);
          add(`${scheduled.name}: on the worker`, at - startedAt);
        }
        break;
      }
      default:
        break;
    }
  }
  const explained = Object.values(segments).reduce((sum, ms) => sum + ms, 0);
  return {
    [CLIENT_TO_START]: startMs - timing.sentAtMs,
    ...segments,
    [OTHER_IN_SERVER]: endMs - startMs - explained,
    [UPDATE_TO_CLIENT]: timing.receivedAtMs - endMs,
  };
}

/** Each segment's mean, p50 and p95 over several turns, in ms (a segment a turn lacks counts as 0 there). */
export type SegmentSummary = Record<string, { mean: number; p50: number; p95: number }>;

/**
 * Reads the histories of the given turns and summarizes their segments ({@link turnSegments}), with the client's
 * total first; a turn whose history cannot be read is skipped and told to `note`. Undefined when none could be read.
 */
export function summarizeSegments(
  temporal: Client,
  timings: ClientTiming[],
  note: (line: string) => void,
): Promise<SegmentSummary | undefined> {
  return summarizeTurns(
    timings,
    async (timing) => ({
      'total (client-measured)': timing.receivedAtMs - timing.sentAtMs,
      ...(await turnSegments(temporal, timing)),
    }),
    note,
  );
}

/** Each turn split by `segmentsOf`, summarized segment by segment; a turn that cannot be split is skipped and told. */
export async function summarizeTurns<T extends { workflowId: string }>(
  timings: T[],
  segmentsOf: (timing: T) => Promise<TurnSegments>,
  note: (line: string) => void,
): Promise<SegmentSummary | undefined> {
  const perTurn: TurnSegments[] = [];
  for (const timing of timings) {
    try {
      perTurn.push(await segmentsOf(timing));
    } catch (error) {
      note(`breakdown: skipped ${timing.workflowId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (perTurn.length === 0) return undefined;
  const names = [...new Set(perTurn.flatMap((segments) => Object.keys(segments)))];
  const out: SegmentSummary = {};
  for (const name of names) {
    const s = summarize(perTurn.map((segments) => segments[name] ?? 0));
    out[name] = { mean: round1(s.mean), p50: round1(s.p50), p95: round1(s.p95) };
  }
  return out;
}

/** A history event's time, in epoch ms (the server's clock). */
export function eventMs(event: HistoryEvent): number {
  const time = event.eventTime;
  const seconds = time?.seconds;
  const whole = typeof seconds === 'number' ? seconds : Number(seconds?.toString() ?? 0);
  return whole * 1000 + (time?.nanos ?? 0) / 1e6;
}
