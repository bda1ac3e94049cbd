import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';
import { TurnEventHub } from './turn-event-hub';
import { TurnEvent, TurnEventLog } from './turn-event-log';

// Runs against the developer's Redis (as the e2e tests do), under a key prefix of its own.
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as unknown as Logger;

describe('TurnEventHub (one blocking connection for many turn streams)', () => {
  let redis: Redis;
  let log: TurnEventLog;
  let hub: TurnEventHub;
  const prefix = `gctest:hub:${randomUUID()}:`;

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      keyPrefix: prefix,
      lazyConnect: true,
    });
    await redis.connect();
    log = new TurnEventLog(redis);
  });
  beforeEach(() => {
    hub = new TurnEventHub(redis, silent, { blockMs: 10_000, maxStreamsPerRead: 4 });
  });
  afterEach(() => hub.close());
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  });

  const collect = (turnId: string, afterId: string, until: number): Promise<TurnEvent[]> =>
    new Promise((resolve) => {
      const got: TurnEvent[] = [];
      const sub = hub.subscribe(turnId, afterId, (events) => {
        got.push(...events);
        if (got.length >= until) {
          sub.close();
          resolve(got);
        }
        return true;
      });
    });

  it('delivers many streams through one reader, each subscriber from its own cursor, each event once', async () => {
    const turns = Array.from({ length: 10 }, () => randomUUID());
    const firstIds = await Promise.all(turns.map((turnId) => log.append(turnId, 'token', { delta: 'a' })));
    // One subscriber from the start, one resuming after the first event, for every turn (more than fit one read).
    const fromStart = turns.map((turnId) => collect(turnId, '0', 3));
    const resumed = turns.map((turnId, i) => collect(turnId, firstIds[i]!, 2));
    const started = Date.now();
    for (const turnId of turns) await log.append(turnId, 'token', { delta: 'b' });
    for (const turnId of turns) await log.append(turnId, 'message.completed', {});
    const all = await Promise.all(fromStart);
    const rest = await Promise.all(resumed);
    // New subscribers wake the blocked read: nobody waited for the 10 s block timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const events of all) expect(events.map((e) => e.data)).toEqual(['{"delta":"a"}', '{"delta":"b"}', '{}']);
    for (const events of rest) expect(events.map((e) => e.event)).toEqual(['token', 'message.completed']);
  });

  it('pauses a subscriber that is full and resumes it from its last delivered event, losing nothing', async () => {
    const turnId = randomUUID();
    for (let i = 0; i < 5; i++) await log.append(turnId, 'token', { delta: String(i) });
    const got: TurnEvent[] = [];
    const sub = hub.subscribe(turnId, '0', (events) => {
      got.push(...events);
      return false; // full after every batch
    });
    await waitUntil(() => got.length === 5);
    expect(sub.paused).toBe(true);
    await log.append(turnId, 'token', { delta: '5' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(got).toHaveLength(5); // nothing delivered (or held) while paused
    sub.resume();
    await waitUntil(() => got.length === 6);
    expect(got.map((e) => JSON.parse(e.data).delta)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(sub.cursor).toBe(got[5]!.id);
    sub.close();
  });

  it('ends every subscription when it closes', async () => {
    const sub = hub.subscribe(randomUUID(), '0', () => true);
    await hub.close();
    await expect(sub.closed).resolves.toBeUndefined();
    expect(hub.stats.subscriptions).toBe(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
