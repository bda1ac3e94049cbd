import { Redis } from 'ioredis';
import { isRedisUnavailable } from './redis-errors';

describe('isRedisUnavailable', () => {
  it('recognises the error of a command sent while the connection is down', async () => {
    // Nothing listens on port 1; no offline queue and no reconnection, as the API's client fails fast.
    const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const failure = await redis.get('k').catch((error: unknown) => error);
    redis.disconnect();
    expect(isRedisUnavailable(failure)).toBe(true);
  });

  it.each([
    'Connection is closed.',
    'Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.',
    'Command timed out',
  ])('recognises %j', (message) => expect(isRedisUnavailable(new Error(message))).toBe(true));

  it('leaves Redis refusing a command, and everything else, alone', () => {
    expect(isRedisUnavailable(new Error('ERR wrong number of arguments for command'))).toBe(false);
    expect(isRedisUnavailable(new Error('Something else'))).toBe(false);
    expect(isRedisUnavailable('Connection is closed.')).toBe(false);
  });
});
