import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';
import { compareStreamIds, createTurnEventSink, TurnEventLog } from './turn-event-log';

const silent = { debug() {}, info() {}, warn: jest.fn(), error() {}, child: () => silent } as unknown as Logger & {
  warn: jest.Mock;
};

describe('turn event sink', () => {
  it('never throws: a Redis failure is logged, live events pause, final events are still tried', async () => {
    let calls = 0;
    const broken = {
      defineCommand: () => undefined,
      xadd: async () => {
        calls += 1;
        throw new Error('connection is closed');
      },
      multi: () => ({
        xadd() {},
        expire() {},
        exec: async () => [[new Error('connection is closed'), null]],
      }),
    } as unknown as Redis;
    silent.warn.mockClear();
    const sink = createTurnEventSink(new TurnEventLog(broken), silent);
    await expect(sink.append('t-1', { event: 'token', data: { delta: 'a' } })).resolves.toBeUndefined();
    // Redis is down: the next live events are dropped at once instead of each waiting for a timeout.
    await expect(sink.append('t-1', { event: 'token', data: { delta: 'b' } })).resolves.toBeUndefined();
    expect(calls).toBe(1);
    await expect(
      sink.finish('t-1', [{ event: 'turn.failed', data: { code: 'x', detail: 'y' } }]),
    ).resolves.toBeUndefined();
    expect(silent.warn).toHaveBeenCalledTimes(2);
  });

  it('orders stream ids numerically', () => {
    expect(compareStreamIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareStreamIds('1000-10', '1000-9')).toBeGreaterThan(0);
    expect(compareStreamIds('1000-1', '1000-1')).toBe(0);
  });
});
