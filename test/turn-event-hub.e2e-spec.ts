import { randomUUID } from 'node:crypto';
import { connectScratchRedis, type ScratchRedis } from './support/scratch-redis';
import { silentLogger } from './support/silent-logger';
import { TurnEventHub } from '#libs/events/turn-event-hub';
import { TurnEvent, TurnEventLog } from '#libs/events/turn-event-log';

describe('TurnEventHub (one blocking connection for many turn streams)', () => {
  let scratch: ScratchRedis;
  let log: TurnEventLog;
  let hub: TurnEventHub;

  beforeAll(async () => {
    scratch = await connectScratchRedis('hub');
    log = new TurnEventLog(scratch.redis);
  });
  beforeEach(() => {
    hub = new TurnEventHub(scratch.redis, silentLogger, { blockMs: 10_000, maxStreamsPerRead: 4 });
  });
  afterEach(() => hub.close());
  afterAll(() => scratch.drop());

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
    const firstIds = await Promise.all(
      turns.map((turnId) => log.append(turnId, { event: 'token', data: { delta: 'a' } })),
    );
    // One subscriber from the start, one resuming after the first event, for every turn (more than fit one read).
    const fromStart = turns.map((turnId) => collect(turnId, '0', 3));
    const resumed = turns.map((turnId, i) => collect(turnId, firstIds[i]!, 2));
    const started = Date.now();
    for (const turnId of turns) await log.append(turnId, { event: 'token', data: { delta: 'b' } });
    for (const turnId of turns) await log.append(turnId, { event: 'message.completed', data: {} } as never);
    const all = await Promise.all(fromStart);
    const rest = await Promise.all(resumed);
    // New subscribers wake the blocked read: nobody waited for the 10 s block timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const events of all) expect(events.map((e) => e.data)).toEqual(['{"delta":"a"}', '{"delta":"b"}', '{}']);
    for (const events of rest) expect(events.map((e) => e.event)).toEqual(['token', 'message.completed']);
  });

  it('pauses a subscriber that is full and resumes it from its last delivered event, losing nothing', async () => {
    const turnId = randomUUID();
    for (let i = 0; i < 5; i++) await log.append(turnId, { event: 'token', data: { delta: String(i) } });
    const got: TurnEvent[] = [];
    const sub = hub.subscribe(turnId, '0', (events) => {
      got.push(...events);
      return false; // full after every batch
    });
    await waitUntil(() => got.length === 5);
    expect(sub.paused).toBe(true);
    await log.append(turnId, { event: 'token', data: { delta: '5' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(got).toHaveLength(5); // nothing delivered (or held) while paused
    sub.resume();
    await waitUntil(() => got.length === 6);
    expect(got.map((e) => JSON.parse(e.data).delta)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(sub.cursor).toBe(got[5]!.id);
    sub.close();
  });

  it('gives a subscriber that joins during a read from a later cursor every event after its own cursor', async () => {
    const turnId = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await log.append(turnId, { event: 'token', data: { delta: String(i) } }));
    const ahead: TurnEvent[] = [];
    hub.subscribe(turnId, ids[2]!, (events) => (ahead.push(...events), true));
    await waitUntil(() => hub.stats.reads > 0); // the hub now blocks on a read after the third event
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The fourth event ends that read; a subscriber resuming after the first joins before its reply is dispatched.
    const appended = log.append(turnId, { event: 'token', data: { delta: '3' } });
    const behind: TurnEvent[] = [];
    hub.subscribe(turnId, ids[0]!, (events) => (behind.push(...events), true));
    await appended;
    await waitUntil(() => behind.length >= 3 && ahead.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(behind.map((e) => JSON.parse(e.data).delta)).toEqual(['1', '2', '3']);
    expect(ahead.map((e) => JSON.parse(e.data).delta)).toEqual(['3']);
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
