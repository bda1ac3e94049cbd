import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisCircuitBreaker, type RedisCircuitBreakerOptions } from '#libs/resilience/circuit-breaker';
import { CircuitOpenError } from '#libs/resilience/circuit-open.error';

const prefix = `test:resilience:${randomBytes(6).toString('hex')}:`;
let redis: Redis;
let sequence = 0;

function breaker(options: Partial<RedisCircuitBreakerOptions> = {}): RedisCircuitBreaker {
  return new RedisCircuitBreaker({
    redis,
    keyPrefix: prefix,
    name: options.name ?? `dep-${++sequence}`,
    failureThreshold: 3,
    cooldownMs: 300,
    ...options,
  });
}

const boom = (): Promise<never> => Promise.reject(new Error('boom'));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function failTimes(cb: RedisCircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(cb.run(boom)).rejects.toThrow('boom');
}

beforeAll(async () => {
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('RedisCircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the consecutive count', async () => {
    const cb = breaker();
    await failTimes(cb, 2);
    expect(await cb.state()).toEqual({ state: 'closed', failures: 2 });
    await expect(cb.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(await cb.state()).toEqual({ state: 'closed', failures: 0 });
    await failTimes(cb, 2);
    expect((await cb.state()).state).toBe('closed');
  });

  it('opens after the threshold and then rejects fast without calling the function', async () => {
    const cb = breaker({ cooldownMs: 10_000 });
    await failTimes(cb, 3);
    const snapshot = await cb.state();
    expect(snapshot.state).toBe('open');
    expect(snapshot.failures).toBe(3);
    expect(snapshot.openedAt).toBeGreaterThan(Date.now() - 5_000);

    const fn = jest.fn(() => Promise.resolve('never'));
    const error: unknown = await cb.run(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).circuit).toBe(cb.name);
    expect((error as CircuitOpenError).state).toBe('open');
    expect((error as CircuitOpenError).retryAfterMs).toBeGreaterThan(9_000);
    expect((error as CircuitOpenError).retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('errors that isFailure rejects do not count', async () => {
    const cb = breaker();
    for (let i = 0; i < 5; i++) await expect(cb.run(boom, () => false)).rejects.toThrow('boom');
    expect(await cb.state()).toEqual({ state: 'closed', failures: 0 });
  });

  it('goes half-open after the cooldown and admits exactly one probe when two race', async () => {
    const cb = breaker();
    await failTimes(cb, 3);
    await sleep(350);
    expect((await cb.state()).state).toBe('half_open');

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls = jest.fn(async () => {
      await gate;
      return 'probe ok';
    });
    const racing = [cb.run(calls), cb.run(calls)].map((p) => p.catch((e: unknown) => e));
    // One of them has been rejected while the other still holds the probe slot.
    const rejected = await Promise.race(racing);
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect((rejected as CircuitOpenError).state).toBe('half_open');
    expect(calls).toHaveBeenCalledTimes(1);

    release();
    const outcomes = await Promise.all(racing);
    expect(outcomes.filter((o) => o === 'probe ok')).toHaveLength(1);
    expect(await cb.state()).toEqual({ state: 'closed', failures: 0 });
  });

  it('honours halfOpenMaxProbes when more probes are allowed', async () => {
    const cb = breaker({ halfOpenMaxProbes: 2 });
    await failTimes(cb, 3);
    await sleep(350);
    const first = await cb.acquire();
    const second = await cb.acquire();
    expect([first.kind, second.kind]).toEqual(['probe', 'probe']);
    await expect(cb.acquire()).rejects.toBeInstanceOf(CircuitOpenError);
    await cb.release(first);
    const third = await cb.acquire();
    expect(third.kind).toBe('probe');
  });

  it('re-opens for another cooldown when the probe fails, then closes on a later probe success', async () => {
    const cb = breaker();
    await failTimes(cb, 3);
    const firstOpen = (await cb.state()).openedAt ?? 0;
    await sleep(350);

    await expect(cb.run(boom)).rejects.toThrow('boom');
    const reopened = await cb.state();
    expect(reopened.state).toBe('open');
    expect(reopened.openedAt).toBeGreaterThan(firstOpen);
    expect(reopened.failures).toBe(4);
    await expect(cb.run(() => Promise.resolve('too early'))).rejects.toBeInstanceOf(CircuitOpenError);

    await sleep(350);
    await expect(cb.run(() => Promise.resolve('recovered'))).resolves.toBe('recovered');
    expect(await cb.state()).toEqual({ state: 'closed', failures: 0 });
  });

  it('ignores late outcomes of calls admitted before the circuit opened', async () => {
    const cb = breaker({ cooldownMs: 10_000 });
    const late = await cb.acquire();
    await failTimes(cb, 3);
    const opened = await cb.state();
    await cb.recordSuccess(late);
    await cb.recordFailure(late);
    expect(await cb.state()).toEqual(opened);
  });

  it('supports manual control without permits', async () => {
    const cb = breaker({ failureThreshold: 2 });
    await cb.recordFailure();
    await cb.recordFailure();
    expect((await cb.state()).state).toBe('open');
    // Within the cooldown a success is a late one and does not close the circuit.
    await cb.recordSuccess();
    expect((await cb.state()).state).toBe('open');
    await sleep(350);
    await cb.recordSuccess();
    expect((await cb.state()).state).toBe('closed');
  });

  it('shares one state between two instances (two workers) on the same name', async () => {
    const name = `shared-${randomBytes(3).toString('hex')}`;
    const workerA = breaker({ name });
    const workerB = breaker({ name });
    const other = breaker({ name: `${name}-other` });

    await failTimes(workerA, 2);
    await failTimes(workerB, 1);
    expect((await workerA.state()).state).toBe('open');
    expect(await workerB.state()).toEqual(await workerA.state());
    await expect(workerB.run(() => Promise.resolve('x'))).rejects.toBeInstanceOf(CircuitOpenError);
    expect((await other.state()).state).toBe('closed');

    await sleep(350);
    // Worker A holds the only probe slot; worker B is turned away until the probe reports.
    const probe = await workerA.acquire();
    expect(probe.kind).toBe('probe');
    await expect(workerB.acquire()).rejects.toBeInstanceOf(CircuitOpenError);
    await workerA.recordSuccess(probe);
    expect((await workerB.state()).state).toBe('closed');
    await expect(workerB.run(() => Promise.resolve('through'))).resolves.toBe('through');
  });

  it('gives every key a TTL', async () => {
    const cb = breaker({ name: 'ttl', failureThreshold: 2, stateTtlMs: 60_000 });
    await failTimes(cb, 1);
    const stateKey = `${prefix}circuit:{ttl}`;
    const ttlClosed = await redis.pttl(stateKey);
    expect(ttlClosed).toBeGreaterThan(50_000);
    expect(ttlClosed).toBeLessThanOrEqual(60_000);
    await failTimes(cb, 1);
    expect(await redis.pttl(stateKey)).toBeGreaterThan(60_000);
    await sleep(350);
    await cb.acquire();
    const probeTtl = await redis.pttl(`${stateKey}:probes`);
    expect(probeTtl).toBeGreaterThan(0);
    expect(probeTtl).toBeLessThanOrEqual(60_000);
  });

  it('lets calls through when Redis cannot answer', async () => {
    // A real client whose connection is gone: every command fails at once.
    const broken = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0 });
    await broken.connect();
    await broken.quit();
    const warn = jest.fn();
    const cb = new RedisCircuitBreaker({
      redis: broken,
      keyPrefix: prefix,
      name: 'unreachable',
      failureThreshold: 1,
      cooldownMs: 1000,
      logger: { warn },
    });
    await expect(cb.run(() => Promise.resolve('still works'))).resolves.toBe('still works');
    expect(warn).toHaveBeenCalled();
  });

  it('refuses nonsensical options', () => {
    expect(() => breaker({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => breaker({ cooldownMs: 1.5 })).toThrow(/cooldownMs/);
    expect(() => breaker({ name: '' })).toThrow(/name/);
  });
});
