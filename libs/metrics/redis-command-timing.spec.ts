import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_COMMANDS, redisCommandLabel, timeRedisCommands, type RedisCommandLabel } from './redis-command-timing';

describe('redisCommandLabel', () => {
  it('names the commands GigaChat sends, blocking reads apart, and anything else other', () => {
    expect(redisCommandLabel('XADD', ['k', '*', 'a', 'b'])).toBe('xadd');
    expect(redisCommandLabel('xread', ['COUNT', 10, 'STREAMS', 'k', '0'])).toBe('xread');
    expect(redisCommandLabel('XREAD', ['BLOCK', 100, 'STREAMS', 'k', '$'])).toBe('xread_block');
    expect(redisCommandLabel('xreadgroup', ['GROUP', 'g', 'c', 'block', 5, 'STREAMS', 'k', '>'])).toBe(
      'xreadgroup_block',
    );
    expect(redisCommandLabel('BLPOP', ['k', 0])).toBe('other_block');
    expect(redisCommandLabel('flushall', [])).toBe('other');
    expect(redisCommandLabel('get-user:42', [])).toBe('other');
  });
});

describe('timeRedisCommands (real Redis)', () => {
  const prefix = `gctest:redis-timing:${randomUUID()}:`;
  let redis: Redis;
  let seen: { command: RedisCommandLabel; seconds: number; failed: boolean }[];

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      keyPrefix: prefix,
      lazyConnect: true,
    });
    await redis.connect();
    seen = [];
    timeRedisCommands(redis, (command, seconds, failed) => seen.push({ command, seconds, failed }));
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  });

  beforeEach(() => {
    seen = [];
  });

  it('reports each command once, with its label and a duration, after its reply', async () => {
    await redis.set('a', '1');
    await redis.get('a');
    await redis.incr('a');
    await redis.xadd('s', '*', 'event', 'x');
    await redis.call('XREAD', 'COUNT', 1, 'STREAMS', 's', '0');
    expect(seen.map((entry) => entry.command)).toEqual(['set', 'get', 'incr', 'xadd', 'xread']);
    expect(seen.every((entry) => !entry.failed && entry.seconds >= 0 && entry.seconds < 5)).toBe(true);
  });

  it('counts an error reply as failed and still hands the error to the caller', async () => {
    await redis.set('text', 'not a number');
    await expect(redis.incr('text')).rejects.toThrow(/not an integer/);
    expect(seen.at(-1)).toMatchObject({ command: 'incr', failed: true });
  });

  it('times the connections duplicated from it, and a blocking XREAD as xread_block with its wait', async () => {
    const reader = redis.duplicate();
    try {
      await reader.call('XREAD', 'BLOCK', 150, 'STREAMS', 'empty', '$');
      const block = seen.find((entry) => entry.command === 'xread_block');
      expect(block?.seconds).toBeGreaterThanOrEqual(0.14);
      expect(seen.some((entry) => entry.command === 'xread')).toBe(false);
    } finally {
      reader.disconnect();
    }
  });

  it('wrapping twice counts once, and a second observer sees the same commands', async () => {
    const other: RedisCommandLabel[] = [];
    const observer = (command: RedisCommandLabel) => other.push(command);
    timeRedisCommands(redis, observer);
    timeRedisCommands(redis, observer);
    await redis.exists('a');
    expect(seen.map((entry) => entry.command)).toEqual(['exists']);
    expect(other).toEqual(['exists']);
  });

  it('a closed connection fails the command as before, counted as failed, and the label stays in the fixed set', async () => {
    const closed = redis.duplicate();
    closed.disconnect();
    await expect(closed.get('a')).rejects.toThrow();
    expect(seen.at(-1)).toMatchObject({ command: 'get', failed: true });
    expect(seen.every((entry) => (REDIS_COMMANDS as readonly string[]).includes(entry.command))).toBe(true);
  });
});
