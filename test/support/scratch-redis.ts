import { Redis } from 'ioredis';
import { uniqueSuffix } from './test-env';

/** A connection to the developer's Redis (as the e2e tests use) under a key prefix of one test file's own. */
export interface ScratchRedis {
  redis: Redis;
  /** Deletes every key under the prefix and disconnects. */
  drop(): Promise<void>;
}

export async function connectScratchRedis(name: string): Promise<ScratchRedis> {
  const prefix = `gctest:${name}:${uniqueSuffix()}:`;
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    keyPrefix: prefix,
    lazyConnect: true,
  });
  await redis.connect();
  return {
    redis,
    drop: async () => {
      const keys = await redis.keys(`${prefix}*`); // KEYS patterns are not prefixed by ioredis
      if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
      redis.disconnect();
    },
  };
}
