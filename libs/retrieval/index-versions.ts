import type { Redis } from 'ioredis';

/**
 * A per-user counter that changes whenever the user's chunks change, so in-process caches (the vector index) know
 * when what they hold is stale. Reading it is one Redis GET.
 */
export interface IndexVersions {
  /** The current version; `0` for a user whose chunks never changed. */
  current(userId: string): Promise<number>;
  /** Marks the user's chunks as changed and returns the new version. */
  bump(userId: string): Promise<number>;
}

/**
 * `IndexVersions` in Redis under `retrieval:version:<userId>`. The client is expected to carry the deployment's
 * key prefix (`keyPrefix` option), so the stored key is `<prefix>retrieval:version:<userId>`.
 */
export class RedisIndexVersions implements IndexVersions {
  constructor(private readonly redis: Redis) {}

  async current(userId: string): Promise<number> {
    const raw = await this.redis.get(versionKey(userId));
    return raw === null ? 0 : Number(raw);
  }

  bump(userId: string): Promise<number> {
    return this.redis.incr(versionKey(userId));
  }
}

export function versionKey(userId: string): string {
  return `retrieval:version:${userId}`;
}
