import type { Redis } from 'ioredis';
import type { TurnEventName, TurnEventPayload } from '../contracts/turn-events';
import type { Logger } from '../logging/logger';

import { TERMINAL_EVENTS } from '../contracts/turn-events';
import type { StepName, TurnStep } from '../contracts/chat-turn.contract';
import { initialSteps, stepRunning, webSearchNotRequested, withStep } from '../contracts/turn-steps';

export { TERMINAL_EVENTS, isTerminalEvent } from '../contracts/turn-events';
export type { TurnEventName, TurnEventPayload } from '../contracts/turn-events';

/**
 * One event as read back: `id` is the Redis stream id, usable as `Last-Event-ID`. `data` stays the JSON text the
 * producer wrote (a `TurnEventPayload`'s data): SSE and WebSocket forward it as it is, without parsing each token.
 */
export interface TurnEvent {
  id: string;
  event: TurnEventName;
  data: string;
}

/** Orders two stream ids (`<ms>-<seq>`): negative when `a` comes first. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map((part) => BigInt(part));
  const [bm = 0n, bs = 0n] = b.split('-').map((part) => BigInt(part));
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

/** A Redis stream id (`<ms>-<seq>`), as sent in `id:` and accepted back as `Last-Event-ID`. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export const DEFAULT_STREAM_TTL_SECONDS = 3600;
const TERMINAL_EVENT_NAMES = [...TERMINAL_EVENTS];
/**
 * KEYS[1] the stream; ARGV: max length, TTL ('0': none), the terminal event names (as many as TERMINAL_EVENT_NAMES),
 * then event name and data pairs. Appends the pairs and sets the TTL unless the newest entry is a terminal event;
 * returns 1 when it appended.
 */
const APPEND_UNLESS_ENDED_SCRIPT = `
local terminal = {}
for i = 3, ${2 + TERMINAL_EVENT_NAMES.length} do terminal[ARGV[i]] = true end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  local fields = last[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'event' and terminal[fields[i + 1]] then return 0 end
  end
end
for i = ${3 + TERMINAL_EVENT_NAMES.length}, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i], 'data', ARGV[i + 1])
end
if ARGV[2] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
`;
const APPEND_UNLESS_ENDED = 'gigachatAppendUnlessEnded';
const PAUSE_AFTER_FAILURE_MS = 5000;
const MAX_LEN = 10_000;

/** The key of a turn's stream; the ioredis client adds its configured key prefix. */
export function turnEventsKey(turnId: string): string {
  return `turn:${turnId}:events`;
}

/** Where a turn's model call `round` notes that it started, then its output (see `TurnEventLog.beginGeneration`). */
export function generationKey(turnId: string, round: number): string {
  return `turn:${turnId}:generation:${round}`;
}

/** Where the partial answer a cancel stopped the turn's model call with is kept, whichever round it was. */
export function cancelledPartialKey(turnId: string): string {
  return `turn:${turnId}:cancelled-partial`;
}

const GENERATION_STARTED = 'started';
/** As long as a turn's run may last (its workflow's timeout). */
const GENERATION_TTL_SECONDS = 15 * 60;

/**
 * One Redis Stream per turn: the worker appends, any API instance reads, so a client resumes anywhere with the id of
 * the last event it saw. Bounded (MAXLEN ~ 10 000) and expired an hour after the turn ends. Readers follow streams
 * through the process's shared `TurnEventHub`, not a connection each.
 */
export class TurnEventLog {
  constructor(
    private readonly redis: Redis,
    private readonly maxLen = MAX_LEN,
  ) {
    // Sent by its hash (EVALSHA) after the first call: every step event of a turn goes through it.
    redis.defineCommand(APPEND_UNLESS_ENDED, { numberOfKeys: 1, lua: APPEND_UNLESS_ENDED_SCRIPT });
  }

  /** Appends one event; resolves with its stream id. */
  async append(turnId: string, { event, data }: TurnEventPayload): Promise<string> {
    const id = await this.redis.xadd(
      turnEventsKey(turnId),
      'MAXLEN',
      '~',
      String(this.maxLen),
      '*',
      'event',
      event,
      'data',
      JSON.stringify(data),
    );
    return id ?? '';
  }

  /**
   * Appends events in one round trip, in order, unless the stream already ends with a terminal event; with
   * `ttlSeconds` (a turn's last events) it then expires the stream. A step may run again after its worker died (the
   * answer stored, Temporal not told), and nothing may follow a terminal event. Resolves false when it appended nothing.
   */
  async appendUnlessEnded(turnId: string, events: TurnEventPayload[], ttlSeconds = 0): Promise<boolean> {
    const args = events.flatMap(({ event, data }) => [event, JSON.stringify(data)]);
    const run = (this.redis as unknown as Record<typeof APPEND_UNLESS_ENDED, (...args: string[]) => Promise<unknown>>)[
      APPEND_UNLESS_ENDED
    ];
    const appended = await run.call(
      this.redis,
      turnEventsKey(turnId),
      String(this.maxLen),
      String(ttlSeconds),
      ...TERMINAL_EVENT_NAMES,
      ...args,
    );
    return appended === 1;
  }

  /** The turn ended: the stream lives on for `ttlSeconds` so late and reconnecting clients still read it. */
  async close(turnId: string, ttlSeconds = DEFAULT_STREAM_TTL_SECONDS): Promise<void> {
    await this.redis.expire(turnEventsKey(turnId), ttlSeconds);
  }

  async exists(turnId: string): Promise<boolean> {
    return (await this.redis.exists(turnEventsKey(turnId))) === 1;
  }

  /**
   * Marks the start of the turn's model call `round` (0, then one per tool round) and answers what an earlier start of
   * it left: `null` the first time, `'started'` when an earlier call was cut off (this one restarts), or the output an
   * earlier call kept (`keepGeneration`) whose step Temporal never recorded.
   */
  async beginGeneration(turnId: string, round: number, ttlSeconds: number): Promise<string | null> {
    const earlier = await this.redis.call(
      'SET',
      generationKey(turnId, round),
      GENERATION_STARTED,
      'EX',
      String(ttlSeconds),
      'NX',
      'GET',
    );
    return typeof earlier === 'string' ? earlier : null;
  }

  /** Keeps a finished model call's output for a re-run of its step (see `beginGeneration`). */
  async keepGeneration(turnId: string, round: number, output: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(generationKey(turnId, round), output, 'EX', ttlSeconds);
  }

  /**
   * Keeps what a model call stopped by a cancel had written, for this round's re-run and for the turn's ending. Two
   * commands, not a MULTI: the keys may sit in different slots of a Redis Cluster.
   */
  async keepCancelled(turnId: string, round: number, output: string, ttl: number): Promise<void> {
    await Promise.all([
      this.redis.set(generationKey(turnId, round), output, 'EX', ttl),
      this.redis.set(cancelledPartialKey(turnId), output, 'EX', ttl),
    ]);
  }

  /** The partial answer a cancel stopped the turn's model call with (`keepCancelled`), if any. */
  async cancelledPartial(turnId: string): Promise<string | null> {
    return this.redis.get(cancelledPartialKey(turnId));
  }

  /**
   * A running turn's steps as its stream told them, in order: what `GET /turns/:id` shows while the workflow is busy
   * in its task (the model call runs inside it, so a query waits for the task to end). Undefined without a stream.
   */
  async steps(turnId: string): Promise<TurnStep[] | undefined> {
    const entries = await this.redis.xrange(turnEventsKey(turnId), '-', '+');
    if (entries.length === 0) return undefined;
    let steps = initialSteps(true);
    let webSearchTold = false;
    for (const entry of entries) {
      const { event, data } = toTurnEvent(entry);
      if (event !== 'step') continue;
      const step = JSON.parse(data) as TurnStep | { name: StepName; status: 'restarted' };
      webSearchTold ||= step.name === 'web_search';
      steps = withStep(steps, step.status === 'restarted' ? stepRunning(step.name) : step);
    }
    // Web search runs before the model is called, and says so: when the model is called without it, none was asked.
    const generating = steps.some((step) => step.name === 'generation' && step.status !== 'pending');
    return generating && !webSearchTold ? withStep(steps, webSearchNotRequested()) : steps;
  }

  /** The stream's newest event, or undefined when the stream is empty or gone. */
  async last(turnId: string): Promise<{ id: string; event: TurnEventName } | undefined> {
    const [entry] = await this.redis.xrevrange(turnEventsKey(turnId), '+', '-', 'COUNT', 1);
    return entry ? toTurnEvent(entry) : undefined;
  }
}

/** One stream entry (`[id, [field, value, …]]`, as XREAD and XRANGE return it) as an event. */
export function toTurnEvent([id, fields]: [string, string[]]): TurnEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  // Only `TurnEventLog.append` writes these streams, so the name is one of ours.
  return { id, event: record.event as TurnEventName, data: record.data ?? 'null' };
}

/** What the chat activities append to. Never throws: a turn must not fail because its live stream could not be fed. */
export interface TurnEventSink {
  append(turnId: string, event: TurnEventPayload): Promise<void>;
  /** Appends several events (no tokens) in order, in one round trip. */
  appendAll(turnId: string, events: TurnEventPayload[]): Promise<void>;
  /** Appends the turn's last events and expires its stream, unless the stream already ended (a re-run step). */
  finish(turnId: string, events: TurnEventPayload[]): Promise<void>;
  /**
   * Called as a model call starts. `kept`: the output of an earlier call of the same round that finished, though
   * Temporal never recorded its step (its worker died before its workflow task ended) — used instead of calling the
   * model again. `restarted`: an earlier call was cut off. Neither when Redis cannot tell.
   */
  beginGeneration(turnId: string, round: number): Promise<{ kept?: string; restarted: boolean }>;
  /** Keeps a finished call's output (JSON) for a re-run of its step, for as long as the turn may run. */
  keepGeneration(turnId: string, round: number, output: string): Promise<void>;
  /**
   * Keeps what a call the user's cancel stopped had written (JSON, a generation output marked cancelled): a re-run of
   * its step finds it as `kept`, and the turn's ending through `cancelledPartial` when the run lost it.
   */
  keepCancelled(turnId: string, round: number, output: string): Promise<void>;
  cancelledPartial(turnId: string): Promise<string | undefined>;
}

export function createTurnEventSink(
  log: TurnEventLog,
  logger: Logger,
  ttlSeconds = DEFAULT_STREAM_TTL_SECONDS,
): TurnEventSink {
  const warn = (turnId: string, event: string, error: unknown): void =>
    logger.warn(
      { turnId, event, err: error instanceof Error ? error.message : String(error) },
      'turn event not appended',
    );
  // After a failure, live events are dropped for a while rather than each waiting out the command timeout: a turn
  // must not slow down because Redis is down. Final events (`finish`) are always tried; readers that miss them are
  // answered from the database.
  let downUntil = 0;
  /** Runs a live step's Redis call unless Redis failed a moment ago; a failure answers `fallback` and pauses them. */
  const guarded = async <T>(turnId: string, what: string, fallback: T, run: () => Promise<T>): Promise<T> => {
    if (Date.now() < downUntil) return fallback;
    try {
      return await run();
    } catch (error) {
      downUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
      warn(turnId, what, error);
      return fallback;
    }
  };
  return {
    async append(turnId, event) {
      await guarded(turnId, event.event, undefined, async () => {
        // Tokens come only from a model call, which never runs again once the turn is told (its output is kept).
        if (event.event === 'token') await log.append(turnId, event);
        else await log.appendUnlessEnded(turnId, [event]);
      });
    },
    async appendAll(turnId, events) {
      await guarded(turnId, events.map((e) => e.event).join(','), undefined, async () => {
        await log.appendUnlessEnded(turnId, events);
      });
    },
    async finish(turnId, events) {
      try {
        const appended = await log.appendUnlessEnded(turnId, events, ttlSeconds);
        if (!appended) logger.info({ turnId }, 'turn stream had already ended; final events not appended again');
      } catch (error) {
        warn(turnId, events.map((e) => e.event).join(','), error);
      }
    },
    beginGeneration: (turnId, round) =>
      guarded(turnId, 'generation start', { restarted: false }, async () => {
        const earlier = await log.beginGeneration(turnId, round, GENERATION_TTL_SECONDS);
        if (earlier === null) return { restarted: false };
        return earlier === GENERATION_STARTED ? { restarted: true } : { kept: earlier, restarted: false };
      }),
    keepGeneration: (turnId, round, output) =>
      guarded(turnId, 'generation kept', undefined, () =>
        log.keepGeneration(turnId, round, output, GENERATION_TTL_SECONDS),
      ),
    keepCancelled: (turnId, round, output) =>
      guarded(turnId, 'cancelled generation kept', undefined, () =>
        log.keepCancelled(turnId, round, output, GENERATION_TTL_SECONDS),
      ),
    cancelledPartial: (turnId) =>
      guarded(
        turnId,
        'cancelled generation read',
        undefined,
        async () => (await log.cancelledPartial(turnId)) ?? undefined,
      ),
  };
}
