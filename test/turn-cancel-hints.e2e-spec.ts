import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { connectScratchRedis, type ScratchRedis } from './support/scratch-redis';
import { silentLogger } from './support/silent-logger';
import { waitFor } from './support/harness';
import { publishTurnCancelHint, RedisTurnCancelHints } from '#libs/events/turn-cancel-hints';
import { createTurnEventSink, TurnEventLog } from '#libs/events/turn-event-log';
import { turnEvents } from '#libs/contracts/turn-events';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/**
 * What a turn whose model call runs inside its workflow task relies on in Redis (real Redis): the cancel sent ahead to
 * the worker, the model call's start and kept output, events refused after the turn is told, and the steps read back
 * from the stream while the workflow is busy.
 */
describe('a turn in Redis while its model call runs in the workflow task', () => {
  let scratch: ScratchRedis;
  let log: TurnEventLog;
  const prefix = () => scratch.redis.options.keyPrefix ?? '';

  beforeAll(async () => {
    scratch = await connectScratchRedis('hints');
    log = new TurnEventLog(scratch.redis);
  });
  afterAll(async () => {
    await scratch.drop();
  });

  describe('cancel hints', () => {
    let hints: RedisTurnCancelHints;
    let other: RedisTurnCancelHints;

    beforeAll(async () => {
      hints = new RedisTurnCancelHints(new Redis(REDIS_URL, { lazyConnect: true }), prefix(), silentLogger);
      // A deployment sharing the Redis under another prefix hears nothing of this one.
      other = new RedisTurnCancelHints(new Redis(REDIS_URL, { lazyConnect: true }), `${prefix()}other:`, silentLogger);
      await hints.start();
      await other.start();
    });
    afterAll(() => {
      hints.close();
      other.close();
    });

    it("reaches the watchers of the hinted turn only, and only this deployment's", async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const heard: string[] = [];
      const stopA = hints.watch(a, () => heard.push('a'));
      const stopB = hints.watch(b, () => heard.push('b'));
      const stopOther = other.watch(a, () => heard.push('other'));
      expect(await publishTurnCancelHint(scratch.redis, prefix(), a)).toBe(true);
      await waitFor(async () => (heard.length > 0 ? true : undefined));
      await new Promise((done) => setTimeout(done, 100));
      expect(heard).toEqual(['a']);
      stopA();
      stopB();
      stopOther();
      expect(hints.watched).toBe(0);
    });

    it('remembers a hint for a turn whose model call has not started yet', async () => {
      const turnId = randomUUID();
      await publishTurnCancelHint(scratch.redis, prefix(), turnId);
      await new Promise((done) => setTimeout(done, 100));
      let heard = 0;
      const stop = hints.watch(turnId, () => heard++);
      await waitFor(async () => (heard === 1 ? true : undefined));
      stop();
    });

    it('stops at once a model call of the turn that starts again after its hint (its task was lost)', async () => {
      const turnId = randomUUID();
      let first = 0;
      const stop = hints.watch(turnId, () => first++);
      await publishTurnCancelHint(scratch.redis, prefix(), turnId);
      await waitFor(async () => (first === 1 ? true : undefined));
      stop();
      let again = 0;
      const stopAgain = hints.watch(turnId, () => again++);
      await new Promise((done) => setTimeout(done, 0));
      stopAgain();
      expect(again).toBe(1);
      // Stopped before the remembered hint is delivered: nothing is called.
      let late = 0;
      hints.watch(turnId, () => late++)();
      await new Promise((done) => setTimeout(done, 0));
      expect(late).toBe(0);
    });

    it('a watcher that stopped listening hears nothing', async () => {
      const turnId = randomUUID();
      let heard = 0;
      hints.watch(turnId, () => heard++)();
      await publishTurnCancelHint(scratch.redis, prefix(), turnId);
      await new Promise((done) => setTimeout(done, 150));
      expect(heard).toBe(0);
    });
  });

  it("notes a model call's start and keeps its output per round: first, restarted, then kept", async () => {
    const sink = createTurnEventSink(log, silentLogger);
    const turnId = randomUUID();
    expect(await sink.beginGeneration(turnId, 0)).toEqual({ restarted: false });
    expect(await sink.beginGeneration(turnId, 0)).toEqual({ restarted: true });
    await sink.keepGeneration(turnId, 0, JSON.stringify({ content: 'the answer' }));
    expect(await sink.beginGeneration(turnId, 0)).toEqual({ kept: '{"content":"the answer"}', restarted: false });
    // The next round of a tool loop is a call of its own.
    expect(await sink.beginGeneration(turnId, 1)).toEqual({ restarted: false });
    expect(await scratch.redis.ttl(`turn:${turnId}:generation:0`)).toBeGreaterThan(600);
  });

  it("keeps a cancelled call's partial answer for a re-run of its round and for the turn's ending", async () => {
    const sink = createTurnEventSink(log, silentLogger);
    const turnId = randomUUID();
    expect(await sink.cancelledPartial(turnId)).toBeUndefined();
    expect(await sink.beginGeneration(turnId, 1)).toEqual({ restarted: false });
    await sink.keepCancelled(turnId, 1, '{"content":"so far","cancelled":true}');
    expect(await sink.beginGeneration(turnId, 1)).toEqual({
      kept: '{"content":"so far","cancelled":true}',
      restarted: false,
    });
    expect(await sink.cancelledPartial(turnId)).toBe('{"content":"so far","cancelled":true}');
    expect(await scratch.redis.ttl(`turn:${turnId}:cancelled-partial`)).toBeGreaterThan(600);
  });

  it('appends nothing after the turn is told, so a step run again cannot add to a finished stream', async () => {
    const sink = createTurnEventSink(log, silentLogger);
    const turnId = randomUUID();
    await sink.append(turnId, turnEvents.step({ name: 'context', status: 'running' }));
    await sink.finish(turnId, [turnEvents.cancelled(turnId, null)]);
    await sink.append(turnId, turnEvents.step({ name: 'context', status: 'running' }));
    await sink.finish(turnId, [turnEvents.cancelled(turnId, null)]);
    const names = (await scratch.redis.xrange(`turn:${turnId}:events`, '-', '+')).map(([, fields]) => fields[1]);
    expect(names).toEqual(['step', 'turn.cancelled']);
  });

  it("reads a running turn's steps back from its stream", async () => {
    const turnId = randomUUID();
    expect(await log.steps(turnId)).toBeUndefined();
    for (const step of [
      { name: 'context', status: 'running' },
      { name: 'retrieval', status: 'running' },
      { name: 'context', status: 'completed', detail: '2 messages' },
      { name: 'retrieval', status: 'skipped', detail: 'no ready files' },
      { name: 'generation', status: 'running' },
      { name: 'generation', status: 'restarted' },
    ] as const)
      await log.append(turnId, turnEvents.step(step));
    await log.append(turnId, turnEvents.token('Hel'));
    expect(await log.steps(turnId)).toEqual([
      { name: 'context', status: 'completed', detail: '2 messages' },
      { name: 'retrieval', status: 'skipped', detail: 'no ready files' },
      { name: 'web_search', status: 'skipped', detail: 'not requested' },
      { name: 'generation', status: 'running' },
      { name: 'persistence', status: 'pending' },
    ]);
  });
});
