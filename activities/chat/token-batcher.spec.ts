import type { TurnEventSink } from '#libs/events/turn-event-log';
import { TokenBatcher } from './token-batcher';

/** A sink that records the `token` deltas appended, in order. */
function recordingSink() {
  const deltas: string[] = [];
  const sink = {
    append: async (_turnId: string, event: { event: string; data: unknown }) => {
      deltas.push((event.data as { delta: string }).delta);
    },
  } as unknown as TurnEventSink;
  return { sink, deltas };
}

describe('TokenBatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the first delta at once, then batches the rest for up to 25 ms', async () => {
    const { sink, deltas } = recordingSink();
    const batcher = new TokenBatcher(sink, 't-1');
    batcher.push('Hello');
    await Promise.resolve();
    await Promise.resolve();
    expect(deltas).toEqual(['Hello']);
    batcher.push(' wor');
    batcher.push('ld');
    await Promise.resolve();
    expect(deltas).toEqual(['Hello']);
    jest.advanceTimersByTime(25);
    await batcher.drain();
    expect(deltas).toEqual(['Hello', ' world']);
  });

  it('flushes a full batch of 32 deltas without waiting, and whatever is left on drain', async () => {
    const { sink, deltas } = recordingSink();
    const batcher = new TokenBatcher(sink, 't-1');
    batcher.push('a');
    for (let i = 0; i < 33; i++) batcher.push('b');
    await batcher.drain();
    expect(deltas).toEqual(['a', 'b'.repeat(32), 'b']);
  });
});
