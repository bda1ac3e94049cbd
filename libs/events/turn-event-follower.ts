import type { TerminalTurnEvent } from '../contracts/turn-events';
import type { Logger } from '../logging/logger';
import type { TurnEventHub, TurnEventSubscription } from './turn-event-hub';
import { compareStreamIds, TERMINAL_EVENTS, type TurnEvent, type TurnEventLog } from './turn-event-log';

/** What the database says about a turn, to end a stream the worker can no longer finish (expired, or never fed). */
export interface TurnOutcome {
  ended: boolean;
  /** The event to end with (`message.completed`, `turn.failed` or `turn.cancelled`), built by `turnEvents`. */
  terminal?: TerminalTurnEvent;
}

/** Where a follower writes: an SSE response, a WebSocket. */
export interface TurnEventTarget {
  /** Writes one event; false when the transport's buffer is full (the follower pauses until `onDrain`). */
  send(event: TurnEvent): boolean;
  /** Calls `resume` once, when the buffer has room again. */
  onDrain(resume: () => void): void;
  /** Called after `keepAliveMs` without a write (SSE sends a comment). */
  keepAlive?(): void;
}

export interface FollowTurnOptions {
  hub: TurnEventHub;
  /** Non-blocking look-ups on the turn's stream (exists, last event). */
  log: TurnEventLog;
  turnId: string;
  /** Send the events after this stream id (`0`: from the start). */
  afterId: string;
  /** Reads the turn's row: asked when the stream is quiet. */
  outcome: () => Promise<TurnOutcome>;
  target: TurnEventTarget;
  logger: Logger;
  /** Stops following (the client went away or unsubscribed); never the turn. */
  signal?: AbortSignal;
  /** How long without events before the database is asked whether the turn ended. Default 5 000 ms. */
  quietMs?: number;
  keepAliveMs?: number;
  /** How long a turn the database shows ended may go on without its final event before one is synthesized. */
  graceMs?: number;
}

/** `ended`: the final event was sent (or the client already had it); `stopped`: the follower was stopped first. */
export type FollowResult = 'ended' | 'stopped';

/**
 * Follows one turn's events for one client through the shared reader, until `message.completed`, `turn.failed` or
 * `turn.cancelled`. Each event carries its stream id, so a client that comes back with the last id it saw gets every
 * later event once. When the stream has expired, or the turn ended and its final event never arrived (the worker could
 * not reach Redis), the final event is rebuilt from the database. Stopping it never touches the turn.
 */
export async function followTurnEvents(options: FollowTurnOptions): Promise<FollowResult> {
  const { hub, log, turnId, target, logger, signal } = options;
  const quietMs = options.quietMs ?? 5_000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const graceMs = options.graceMs ?? 5_000;
  if (signal?.aborted) return 'stopped';

  let cursor = options.afterId;
  let lastWrite = Date.now();
  let lastEvent = Date.now();
  const send = (event: TurnEvent): boolean => {
    lastWrite = Date.now();
    return target.send(event);
  };
  const synthesize = (terminal: TerminalTurnEvent): void => {
    const [ms = '0'] = cursor.split('-');
    send({
      id: `${Math.max(Date.now(), Number(ms) + 1)}-0`,
      event: terminal.event,
      data: JSON.stringify(terminal.data),
    });
  };
  // The client already has the final event (it resumed after it): nothing more to send. Redis down: it cannot tell.
  const alreadyFinished = async (): Promise<boolean> => {
    const last = await log.last(turnId).catch(() => undefined);
    return last !== undefined && TERMINAL_EVENTS.has(last.event) && compareStreamIds(last.id, cursor) <= 0;
  };
  // Whether the turn's stream is there to deliver its end: not when it expired, nor while Redis cannot be reached
  // (an open stream is not cut off by a Redis outage; it ends with the database's final event).
  const streamReadable = (): Promise<boolean> => log.exists(turnId).catch(() => false);

  // Already over: the stream gone (expired), or Redis unable to say, is answered from the database at once.
  const initial = await options.outcome();
  if (initial.ended && initial.terminal) {
    if (!(await streamReadable())) {
      synthesize(initial.terminal);
      return 'ended';
    }
    if (await alreadyFinished()) return 'ended';
  }
  if (signal?.aborted) return 'stopped';

  let finish: (result: FollowResult) => void = () => undefined;
  const done = new Promise<FollowResult>((resolve) => (finish = resolve));
  let over = false;
  const end = (result: FollowResult): void => {
    if (over) return;
    over = true;
    finish(result);
  };

  const subscription: TurnEventSubscription = hub.subscribe(turnId, cursor, (events) => {
    if (over) return true;
    lastEvent = Date.now();
    let more = true;
    for (const event of events) {
      more = send(event) && more;
      cursor = event.id;
      if (TERMINAL_EVENTS.has(event.event)) {
        end('ended');
        return true;
      }
    }
    if (!more) target.onDrain(() => subscription.resume());
    return more;
  });
  void subscription.closed.then(() => end('stopped'));
  const onAbort = (): void => end('stopped');
  signal?.addEventListener('abort', onAbort, { once: true });

  // Quiet: the turn may have ended with its stream expired or unfed (Redis was down for the worker).
  let endedSince: number | undefined;
  let checking = false;
  const check = async (): Promise<void> => {
    if (over || checking || subscription.paused || Date.now() - lastEvent < quietMs) return;
    checking = true;
    try {
      const outcome = await options.outcome();
      if (over) return;
      if (outcome.ended && outcome.terminal) {
        if (await alreadyFinished()) return end('ended');
        endedSince ??= Date.now();
        if (!(await streamReadable()) || Date.now() - endedSince >= graceMs) {
          if (over) return;
          synthesize(outcome.terminal);
          return end('ended');
        }
      }
      if (target.keepAlive && Date.now() - lastWrite >= keepAliveMs - quietMs / 2) {
        lastWrite = Date.now();
        target.keepAlive();
      }
    } catch (error) {
      if (!over) {
        logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
        end('stopped');
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), Math.max(10, Math.min(quietMs, 1_000)));
  try {
    return await done;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    subscription.close();
  }
}
