import { randomUUID } from 'node:crypto';
import { connectScratchRedis, type ScratchRedis } from './support/scratch-redis';
import { silentLogger } from './support/silent-logger';
import { followTurnEvents, type TurnOutcome } from '#libs/events/turn-event-follower';
import { TurnEventHub } from '#libs/events/turn-event-hub';
import { type TurnEvent, TurnEventLog } from '#libs/events/turn-event-log';

describe('followTurnEvents', () => {
  let scratch: ScratchRedis;
  let log: TurnEventLog;
  let hub: TurnEventHub;
  const running: () => Promise<TurnOutcome> = async () => ({ ended: false });

  beforeAll(async () => {
    scratch = await connectScratchRedis('follow');
    log = new TurnEventLog(scratch.redis);
    hub = new TurnEventHub(scratch.redis, silentLogger);
  });
  afterAll(async () => {
    await hub.close();
    await scratch.drop();
  });

  it('waits for a full target to drain, then goes on from its last event: nothing lost, nothing twice', async () => {
    const turnId = randomUUID();
    for (let i = 0; i < 300; i++) await log.append(turnId, { event: 'token', data: { delta: `${i} ` } });
    const sent: TurnEvent[] = [];
    let drains = 0;
    const following = followTurnEvents({
      hub,
      log,
      turnId,
      afterId: '0',
      outcome: running,
      logger: silentLogger,
      target: {
        send: (event) => {
          sent.push(event);
          return sent.length % 50 !== 0; // "the socket buffer is full" now and then
        },
        onDrain: (resume) => {
          drains++;
          setTimeout(resume, 20);
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await log.append(turnId, { event: 'message.completed', data: { assistantMessage: {} } } as never);
    await expect(following).resolves.toBe('ended');
    // A batch (at most 128 events) is written whole; the next waits for the drain.
    expect(drains).toBeGreaterThanOrEqual(2);
    expect(sent.map((e) => e.id)).toEqual([...new Set(sent.map((e) => e.id))]);
    expect(sent.filter((e) => e.event === 'token').map((e) => (JSON.parse(e.data) as { delta: string }).delta)).toEqual(
      Array.from({ length: 300 }, (_, i) => `${i} `),
    );
    expect(sent.at(-1)!.event).toBe('message.completed');
    expect(hub.stats.subscriptions).toBe(0);
  });

  it('synthesizes the final event from the database when the stream has expired', async () => {
    const sent: TurnEvent[] = [];
    const result = await followTurnEvents({
      hub,
      log,
      turnId: randomUUID(),
      afterId: '0',
      outcome: async () => ({ ended: true, terminal: { event: 'turn.failed', data: { code: 'x', detail: 'y' } } }),
      logger: silentLogger,
      target: { send: (event) => sent.push(event) > 0, onDrain: () => undefined },
    });
    expect(result).toBe('ended');
    expect(sent.map((e) => [e.event, e.data])).toEqual([['turn.failed', '{"code":"x","detail":"y"}']]);
  });

  it('stops when its signal aborts, leaving no subscription behind', async () => {
    const stop = new AbortController();
    const following = followTurnEvents({
      hub,
      log,
      turnId: randomUUID(),
      afterId: '0',
      outcome: running,
      logger: silentLogger,
      signal: stop.signal,
      target: { send: () => true, onDrain: () => undefined },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hub.stats.subscriptions).toBe(1);
    stop.abort();
    await expect(following).resolves.toBe('stopped');
    expect(hub.stats.subscriptions).toBe(0);
  });
});
