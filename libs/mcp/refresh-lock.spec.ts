import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisRefreshLock } from './refresh-lock';

describe('RedisRefreshLock (real Redis)', () => {
  const prefix = `gctest:refresh-lock:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      keyPrefix: prefix,
      lazyConnect: true,
    });
    await redis.connect();
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  });

  it('lets one holder at a time have a sign-in, and the next one in as soon as it is released', async () => {
    const lock = new RedisRefreshLock(redis, { pollMs: 5 });
    const order: string[] = [];
    const release = await lock.hold('server-a');
    const waiting = lock.hold('server-a').then((next) => {
      order.push('second holds');
      return next;
    });
    // Another sign-in is not held up.
    await (
      await lock.hold('server-b')
    )();
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('first releases');
    await release();
    await (
      await waiting
    )();
    expect(order).toEqual(['first releases', 'second holds']);
    expect(await redis.exists('mcp:oauth-refresh:server-a')).toBe(0);
  });

  it('expires a holder that never releases, and a late release does not free the next holder', async () => {
    const lock = new RedisRefreshLock(redis, { ttlMs: 100, pollMs: 5 });
    const stale = await lock.hold('server-c');
    const started = Date.now();
    const next = await lock.hold('server-c');
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    await stale();
    expect(await redis.exists('mcp:oauth-refresh:server-c')).toBe(1);
    await next();
    expect(await redis.exists('mcp:oauth-refresh:server-c')).toBe(0);
  });

  it('goes on without the lock after its wait, and when Redis cannot be reached', async () => {
    const lock = new RedisRefreshLock(redis, { ttlMs: 10_000, waitMs: 60, pollMs: 5 });
    const kept = await lock.hold('server-d');
    const started = Date.now();
    const without = await lock.hold('server-d');
    expect(Date.now() - started).toBeLessThan(1_000);
    await without(); // releases nothing: the holder still has it
    expect(await redis.exists('mcp:oauth-refresh:server-d')).toBe(1);
    await kept();

    const gone = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    const release = await new RedisRefreshLock(gone).hold('server-e');
    await expect(release()).resolves.toBeUndefined();
    gone.disconnect();
  });
});
