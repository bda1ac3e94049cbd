import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Gives the lock back, if this holder still has it (a no-op once it expired and someone else took it). */
export type ReleaseLock = () => Promise<void>;

/**
 * One process at a time refreshes a sign-in's tokens. `hold` waits its turn; when the lock cannot be had (Redis is
 * down, or a holder kept it past the wait) it resolves anyway, with a release that does nothing: the refresh then
 * goes on unserialized, as it did before there was a lock, and the row's compare-and-set still keeps newer tokens.
 */
export interface RefreshLock {
  hold(account: string): Promise<ReleaseLock>;
}

export interface RedisRefreshLockOptions {
  /** How long a holder keeps the lock at most (a refresh, then saving its tokens). Default 30 000. */
  ttlMs?: number;
  /** How long a process waits for the lock before refreshing anyway. Default 10 000. */
  waitMs?: number;
  /** How often a waiting process asks again. Default 50. */
  pollMs?: number;
}

/** Deletes the key only while it holds this holder's token. */
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const NOTHING_TO_RELEASE: ReleaseLock = () => Promise.resolve();

/** The lock in Redis (`redis` carries the deployment's key prefix): one key per sign-in, `SET NX PX`. */
export class RedisRefreshLock implements RefreshLock {
  readonly #ttlMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisRefreshLockOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#waitMs = options.waitMs ?? 10_000;
    this.#pollMs = options.pollMs ?? 50;
  }

  async hold(account: string): Promise<ReleaseLock> {
    const key = `mcp:oauth-refresh:${account}`;
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + this.#waitMs;
    try {
      while ((await this.redis.set(key, token, 'PX', this.#ttlMs, 'NX')) !== 'OK') {
        if (Date.now() >= deadline) return NOTHING_TO_RELEASE;
        await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
      }
    } catch {
      return NOTHING_TO_RELEASE;
    }
    return async () => {
      try {
        await this.redis.eval(RELEASE, 1, key, token);
      } catch {
        // Redis is gone: the key expires on its own.
      }
    };
  }
}
