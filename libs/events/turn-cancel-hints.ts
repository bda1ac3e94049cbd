import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';

/**
 * A user's cancel, sent ahead to the worker running the turn's model call.
 *
 * The record of a cancel is Temporal's: the API cancels the workflow first, and only then publishes this hint. The
 * model call runs as a local activity inside the turn's workflow task, so the cancel request itself only reaches the
 * workflow when that task ends (or heartbeats, every ~8 s). The hint lets the call stop now: the generation ends with
 * the partial answer, the workflow keeps it, and then waits for the cancel request it knows is recorded. A lost hint
 * (Redis down, a worker reconnecting) only makes the cancel slower, never different.
 *
 * Redis pub/sub channels ignore ioredis's key prefix, so the channel carries the prefix itself (tests and deployments
 * sharing a Redis each hear only their own).
 */
export function turnCancelChannel(keyPrefix: string): string {
  return `${keyPrefix}turn-cancel`;
}

/** The API's side: best effort (the workflow's cancel is already recorded), never throws. */
export async function publishTurnCancelHint(redis: Redis, keyPrefix: string, turnId: string): Promise<boolean> {
  try {
    await redis.publish(turnCancelChannel(keyPrefix), turnId);
    return true;
  } catch {
    return false;
  }
}

/** What a generation running in this process listens to. */
export interface TurnCancelHints {
  /** Calls `onCancel` when a cancel hint for the turn arrives; the returned function stops listening. */
  watch(turnId: string, onCancel: () => void): () => void;
}

/**
 * The worker's side: one subscribed connection for the whole process (ioredis subscribes again after a reconnect),
 * and the turns whose model calls run here.
 */
export class RedisTurnCancelHints implements TurnCancelHints {
  private readonly watchers = new Map<string, Set<() => void>>();
  /**
   * Every hint heard in the last minute: a generation of the turn that starts after it on this worker (a cancel during
   * the turn's first steps, or the step run again after its workflow task was lost) stops at once. A re-run on another
   * worker finds the partial answer the stopped call kept in Redis instead.
   */
  private readonly early = new Map<string, number>();
  private readonly channel: string;

  constructor(
    private readonly subscriber: Redis,
    keyPrefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = turnCancelChannel(keyPrefix);
    // The worker's main connection already reports Redis being down; ioredis reconnects and subscribes again.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, turnId: string) => {
      if (channel === this.channel) this.hear(turnId);
    });
  }

  /** Subscribes; a Redis that is down now is retried by ioredis, and until then cancels arrive through Temporal. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'cancel hints unavailable; cancels reach running generations through Temporal',
      );
    });
  }

  watch(turnId: string, onCancel: () => void): () => void {
    let watching = true;
    const heard = this.early.get(turnId);
    if (heard !== undefined && Date.now() - heard < EARLY_HINT_MS) queueMicrotask(() => watching && onCancel());
    let set = this.watchers.get(turnId);
    if (!set) this.watchers.set(turnId, (set = new Set()));
    set.add(onCancel);
    return () => {
      watching = false;
      set.delete(onCancel);
      if (set.size === 0 && this.watchers.get(turnId) === set) this.watchers.delete(turnId);
    };
  }

  /** How many turns are watched (for tests). */
  get watched(): number {
    return this.watchers.size;
  }

  close(): void {
    this.subscriber.disconnect();
  }

  private hear(turnId: string): void {
    this.remember(turnId);
    for (const onCancel of [...(this.watchers.get(turnId) ?? [])]) onCancel();
  }

  private remember(turnId: string): void {
    // Oldest first (a Map keeps insertion order): drop what expired, and the oldest while over the bound.
    const now = Date.now();
    for (const [id, at] of this.early) {
      if (now - at < EARLY_HINT_MS && this.early.size < EARLY_HINTS_KEPT) break;
      this.early.delete(id);
    }
    this.early.delete(turnId); // heard again: it moves to the end, where the newest are
    this.early.set(turnId, now);
  }
}

const EARLY_HINT_MS = 60_000;
const EARLY_HINTS_KEPT = 10_000;
