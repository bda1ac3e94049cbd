import { LiveFirstPriority } from './step-priority';

/** A call that runs until `finish()` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('LiveFirstPriority', () => {
  it('runs replayed calls side by side while no live turn ran lately', async () => {
    const priority = new LiveFirstPriority({ whileLive: 1, whenIdle: 3 });
    const calls = [held(), held(), held(), held()];
    let started = 0;
    const runs = calls.map((call) => priority.batch(() => ((started += 1), call.work())));
    await tick();
    expect(started).toBe(3);
    calls[0]!.finish();
    await tick();
    expect(started).toBe(4);
    for (const call of calls) call.finish();
    await Promise.all(runs);
  });

  it('lets one replayed call run at a time while live turns run, and opens up once they stop', async () => {
    let now = 0;
    const priority = new LiveFirstPriority({
      whileLive: 1,
      whenIdle: 4,
      liveWindowMs: 1000,
      spacingWhileLiveMs: 0,
      now: () => now,
    });
    priority.live();
    expect(priority.room).toBe(1);
    const calls = [held(), held(), held()];
    let started = 0;
    const runs = calls.map((call) => priority.batch(() => ((started += 1), call.work())));
    await tick();
    expect(started).toBe(1);
    calls[0]!.finish();
    await tick();
    expect(started).toBe(2);
    // The live turns stopped: the waiting call starts within the waiting period, without another call ending.
    now = 1500;
    expect(priority.room).toBe(4);
    // Its wait ends after ~100 ms; polled, not slept once, so a busy machine's late timer is not a failure.
    for (let waited = 0; waited < 2000 && started < 3; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(started).toBe(3);
    for (const call of calls) call.finish();
    await Promise.all(runs);
  });

  it('spaces replayed calls out while live turns run', async () => {
    // A window no stall of a loaded machine outlasts: once it closes, spacing rightly stops (CI once saw 47 ms).
    const priority = new LiveFirstPriority({ whileLive: 2, spacingWhileLiveMs: 60, liveWindowMs: 60_000 });
    priority.live();
    const started: number[] = [];
    const t0 = performance.now();
    await Promise.all([1, 2, 3].map(() => priority.batch(async () => void started.push(performance.now() - t0))));
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(55);
    expect(started[2]! - started[1]!).toBeGreaterThanOrEqual(55);
  });

  it('passes results and errors through, and frees its place either way', async () => {
    const priority = new LiveFirstPriority({ whenIdle: 1 });
    await expect(priority.batch(async () => 'answer')).resolves.toBe('answer');
    await expect(priority.batch(async () => Promise.reject(new Error('provider down')))).rejects.toThrow(
      'provider down',
    );
    await expect(priority.batch(async () => 'again')).resolves.toBe('again');
  });
});
