import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';
import { compareStreamIds, type TurnEvent, turnEventsKey, toTurnEvent } from './turn-event-log';

export interface TurnEventHubOptions {
  /** How long one XREAD waits for events; new subscribers wake it at once. Default 5 000 ms. */
  blockMs?: number;
  /** At most this many turn streams in one XREAD; past it the streams are read in rounds. Default 256. */
  maxStreamsPerRead?: number;
  /** At most this many events of one stream per read. Default 128. */
  countPerStream?: number;
  /** Pause after a failed read (Redis down) before the next try. Default 1 000 ms. */
  retryMs?: number;
  /**
   * Told, each time a stream's new events reach at least one subscriber, how long ago (ms) the newest of them was
   * appended (its id's time, Redis's clock): the hub's delivery lag. Catch-up reads of events older than a minute (a
   * client resuming a finished turn) are not told.
   */
  onDelivered?: (lagMs: number) => void;
}

/**
 * Receives a subscription's events in order, each batch after the last event it was given. Returns false when the
 * subscriber cannot take more for now (its socket buffer is full): the hub then pauses the subscription and reads on
 * from its last delivered id once it is resumed, so a slow client never makes anything buffer without bound.
 */
export type TurnEventDelivery = (events: TurnEvent[]) => boolean;

export interface TurnEventSubscription {
  /** The id of the last event delivered (or the id the subscription started after). */
  readonly cursor: string;
  readonly paused: boolean;
  /** Stops delivery until `resume`; nothing is held for the subscriber meanwhile. */
  pause(): void;
  /** Delivers again, from the event after `cursor`. */
  resume(): void;
  /** Ends the subscription (idempotent). */
  close(): void;
  /** Resolves when the subscription ends: closed by its owner, or the hub shut down. */
  readonly closed: Promise<void>;
}

export interface TurnEventHubStats {
  streams: number;
  subscriptions: number;
  reads: number;
}

interface Subscriber {
  turnId: string;
  cursor: string;
  paused: boolean;
  open: boolean;
  deliver: TurnEventDelivery;
  end: () => void;
}

const WAKE_TTL_MS = 600_000;
/** Block of a read round when there are more streams than fit in one XREAD: a short wait, then the next round. */
const ROUND_BLOCK_MS = 20;

/**
 * One blocking Redis connection per process that reads every followed turn stream at once (XREAD BLOCK over many
 * keys) and fans the entries out to the subscribers: hundreds of SSE and WebSocket clients cost one connection, not
 * one each. Each subscriber has its own cursor (resume with `Last-Event-ID`); a stream is read from the oldest cursor
 * of its active subscribers and every subscriber gets only the entries after its own, so each event reaches it once.
 *
 * Waking: every read also waits on a wake stream of this hub's own; a new (or resumed) subscriber XADDs to it on the
 * shared connection, which ends the blocked read at once. An XADD that lands before the read blocks is still seen
 * (the read asks for entries after the last wake id), so no subscriber waits out the block timeout.
 */
export class TurnEventHub {
  private readonly streams = new Map<string, Set<Subscriber>>();
  private readonly blockMs: number;
  private readonly maxStreamsPerRead: number;
  private readonly countPerStream: number;
  private readonly retryMs: number;
  private readonly onDelivered: ((lagMs: number) => void) | undefined;
  private readonly wakeKey = `turn-event-hub:${randomUUID()}:wake`;
  private reader: Redis | undefined;
  private connecting: Promise<Redis> | undefined;
  private running = false;
  private reading = false;
  private wakeSent = false;
  private wakeId = '0-0';
  private idle: (() => void) | undefined;
  private shutDown = false;
  private reads = 0;
  private round = 0;
  private failing = false;

  constructor(
    /** The shared, non-blocking connection: wakes are sent on it; the reader is a duplicate of it. */
    private readonly redis: Redis,
    private readonly logger: Logger,
    options: TurnEventHubOptions = {},
  ) {
    this.blockMs = options.blockMs ?? 5_000;
    this.maxStreamsPerRead = options.maxStreamsPerRead ?? 256;
    this.countPerStream = options.countPerStream ?? 128;
    this.retryMs = options.retryMs ?? 1_000;
    this.onDelivered = options.onDelivered;
  }

  /** Follows `turnId` from after `afterId` (`0`: from the start). */
  subscribe(turnId: string, afterId: string, deliver: TurnEventDelivery): TurnEventSubscription {
    let end: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (end = resolve));
    const subscriber: Subscriber = { turnId, cursor: afterId, paused: false, open: !this.shutDown, deliver, end };
    if (this.shutDown) end();
    else {
      let subscribers = this.streams.get(turnId);
      if (!subscribers) this.streams.set(turnId, (subscribers = new Set()));
      subscribers.add(subscriber);
      this.wake();
    }
    return {
      get cursor() {
        return subscriber.cursor;
      },
      get paused() {
        return subscriber.paused;
      },
      pause: () => {
        subscriber.paused = true;
      },
      resume: () => {
        if (!subscriber.paused || !subscriber.open) return;
        subscriber.paused = false;
        this.wake();
      },
      close: () => this.remove(subscriber),
      closed,
    };
  }

  get stats(): TurnEventHubStats {
    let subscriptions = 0;
    for (const subscribers of this.streams.values()) subscriptions += subscribers.size;
    return { streams: this.streams.size, subscriptions, reads: this.reads };
  }

  /** Ends every subscription and closes the reading connection (a pending read ends with it). */
  async close(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const subscribers of [...this.streams.values()]) for (const subscriber of subscribers) this.remove(subscriber);
    this.idle?.();
    const reader = this.reader ?? (await this.connecting?.catch(() => undefined));
    reader?.disconnect();
    await this.redis.del(this.wakeKey).catch(() => undefined);
  }

  private remove(subscriber: Subscriber): void {
    if (!subscriber.open) return;
    subscriber.open = false;
    const subscribers = this.streams.get(subscriber.turnId);
    subscribers?.delete(subscriber);
    if (subscribers?.size === 0) this.streams.delete(subscriber.turnId);
    subscriber.end();
  }

  /** Something to read changed: start the loop, end its idle wait, or end its blocked read. */
  private wake(): void {
    if (this.shutDown) return;
    if (!this.running) {
      this.running = true;
      void this.loop();
      return;
    }
    if (this.idle) {
      this.idle();
      return;
    }
    if (!this.reading || this.wakeSent) return; // the next read is built after this change anyway
    this.wakeSent = true;
    this.redis
      .xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1')
      .then(() => this.redis.pexpire(this.wakeKey, WAKE_TTL_MS))
      .catch(() => undefined); // Redis is down: the read fails too and is retried
  }

  private async loop(): Promise<void> {
    try {
      while (!this.shutDown) {
        const active = this.activeStreams();
        if (active.size === 0) {
          await new Promise<void>((resolve) => (this.idle = resolve));
          this.idle = undefined;
          continue;
        }
        try {
          const reader = await this.connect();
          const batches = await this.read(reader, active);
          if (this.failing) this.logger.info({}, 'turn event reads resumed');
          this.failing = false;
          for (const [turnId, events] of batches) this.dispatch(turnId, active.get(turnId)!, events);
        } catch (error) {
          if (this.shutDown) break;
          if (!this.failing) {
            this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'turn event read failed');
          }
          this.failing = true;
          await new Promise((resolve) => setTimeout(resolve, this.retryMs));
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Each stream with an active (unpaused) subscriber, and the oldest cursor among them. */
  private activeStreams(): Map<string, string> {
    const active = new Map<string, string>();
    for (const [turnId, subscribers] of this.streams) {
      let from: string | undefined;
      for (const subscriber of subscribers) {
        if (subscriber.paused) continue;
        if (from === undefined || compareStreamIds(subscriber.cursor, from) < 0) from = subscriber.cursor;
      }
      if (from !== undefined) active.set(turnId, from);
    }
    return active;
  }

  private async read(reader: Redis, active: Map<string, string>): Promise<Map<string, TurnEvent[]>> {
    const entries = [...active];
    const chunks: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += this.maxStreamsPerRead) {
      chunks.push(entries.slice(i, i + this.maxStreamsPerRead));
    }
    const out = new Map<string, TurnEvent[]>();
    if (chunks.length > 1) {
      // More streams than one read takes: every chunk without blocking (pipelined on the one connection) …
      const replies = await Promise.all(chunks.map((chunk) => this.xread(reader, chunk, undefined)));
      for (const reply of replies) for (const [turnId, events] of reply) out.set(turnId, events);
      if (out.size > 0) return out;
    }
    // … and a blocking read (on the one chunk there is, or the next chunk in turn with a short block).
    const chunk = chunks[this.round++ % chunks.length] ?? [];
    return this.xread(reader, chunk, chunks.length > 1 ? Math.min(ROUND_BLOCK_MS, this.blockMs) : this.blockMs);
  }

  private async xread(
    reader: Redis,
    chunk: [string, string][],
    blockMs: number | undefined,
  ): Promise<Map<string, TurnEvent[]>> {
    const keys = chunk.map(([turnId]) => turnEventsKey(turnId));
    const ids = chunk.map(([, from]) => from);
    const args: (string | number)[] = ['COUNT', this.countPerStream];
    if (blockMs !== undefined) {
      // The wake stream rides along only on blocking reads: it is what ends them early.
      args.push('BLOCK', blockMs, 'STREAMS', this.wakeKey, ...keys, this.wakeId, ...ids);
      this.wakeSent = false;
      this.reading = true;
    } else {
      args.push('STREAMS', ...keys, ...ids);
    }
    this.reads++;
    let reply: [string, [string, string[]][]][] | null;
    try {
      reply = (await reader.call('XREAD', ...args)) as [string, [string, string[]][]][] | null;
    } finally {
      if (blockMs !== undefined) this.reading = false;
    }
    const prefix = reader.options.keyPrefix ?? '';
    const byKey = new Map(chunk.map(([turnId]) => [`${prefix}${turnEventsKey(turnId)}`, turnId]));
    const out = new Map<string, TurnEvent[]>();
    for (const [key, entries] of reply ?? []) {
      if (key === `${prefix}${this.wakeKey}`) {
        const last = entries.at(-1);
        if (last) this.wakeId = last[0];
        continue;
      }
      const turnId = byKey.get(key);
      if (turnId !== undefined) out.set(turnId, entries.map(toTurnEvent));
    }
    return out;
  }

  /**
   * Hands each subscriber of the stream the entries after its own cursor. The entries are those after `readFrom`, the
   * oldest cursor when the read was built: a subscriber that joined (or resumed) meanwhile with an older cursor would
   * miss the entries between the two, so it gets nothing from this read and is served by the next, built from its own.
   */
  private dispatch(turnId: string, readFrom: string, events: TurnEvent[]): void {
    const subscribers = this.streams.get(turnId);
    if (!subscribers || events.length === 0) return;
    let delivered = false;
    for (const subscriber of [...subscribers]) {
      if (subscriber.paused || !subscriber.open) continue;
      if (compareStreamIds(subscriber.cursor, readFrom) < 0) continue;
      const fresh = events.filter((event) => compareStreamIds(event.id, subscriber.cursor) > 0);
      if (fresh.length === 0) continue;
      subscriber.cursor = fresh[fresh.length - 1]!.id;
      let more = true;
      delivered = true;
      try {
        more = subscriber.deliver(fresh);
      } catch (error) {
        this.logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'delivery failed');
        this.remove(subscriber);
        continue;
      }
      if (!more && subscriber.open) subscriber.paused = true;
    }
    if (delivered && this.onDelivered) {
      const lagMs = Date.now() - Number.parseInt(events[events.length - 1]!.id, 10);
      if (lagMs >= 0 && lagMs <= 60_000) this.onDelivered(lagMs);
    }
  }

  private connect(): Promise<Redis> {
    if (this.reader) return Promise.resolve(this.reader);
    this.connecting ??= (async () => {
      // A connection of its own: XREAD BLOCK holds it. Commands fail fast while it reconnects; the loop retries.
      const connection = this.redis.duplicate({ lazyConnect: true, enableOfflineQueue: false });
      connection.on('error', () => undefined);
      try {
        await connection.connect();
      } catch (error) {
        connection.disconnect();
        this.connecting = undefined;
        throw error;
      }
      if (this.shutDown) connection.disconnect();
      else this.reader = connection;
      return connection;
    })();
    return this.connecting;
  }
}
