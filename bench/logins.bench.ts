import type { BenchContext, BenchResult, BenchSection } from './bench-section';
import { envInt } from './bench-section';
import { ApiClient } from './support/api-client';
import { startBenchStack } from './support/bench-stack';
import { runLanes } from './support/lanes';
import { round1, rounded, summarize } from './support/stats';

const HEALTH_P99_TARGET_MS = 20;
const PASSWORD = 'correct horse battery staple bench';

/**
 * Logins per second with bcrypt at cost 12 (the production default), and how `/health/live` answers while those
 * logins keep both cores busy: hashing runs on libuv's thread pool, so the event loop must stay responsive.
 */
export const loginsSection: BenchSection = {
  id: 'logins',
  title: 'Logins at bcrypt cost 12, and /health/live while they saturate the CPU',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const total = envInt(ctx, 'BENCH_LOGINS', 120);
    const concurrency = envInt(ctx, 'BENCH_LOGIN_CONCURRENCY', 8, 1, 256);
    const errors: string[] = [];
    const stack = await startBenchStack(ctx, 'logins', {
      BCRYPT_COST: '12',
      RATE_LIMIT_AUTH_MAX: '1000000',
    });
    try {
      const client = new ApiClient(stack.baseUrl, ctx.signal);
      // One account per lane: concurrent logins to one account count towards its lockout while they are checked.
      const emails = Array.from({ length: concurrency }, (_, lane) => `bench.${lane}.${Date.now()}@example.com`);
      for (const email of emails) {
        await client.call('POST', '/api/v1/auth/register', { email, password: PASSWORD, displayName: 'Bench' }, 201);
      }

      const idleHealth = await probeHealth(stack.baseUrl, ctx.signal, () => false, 200);

      let loginsRunning = true;
      const loadedHealthPromise = probeHealth(stack.baseUrl, ctx.signal, () => loginsRunning);
      const run = await runLanes({ total, lanes: concurrency, signal: ctx.signal }, async (lane) => {
        await client.call('POST', '/api/v1/auth/login', { email: emails[lane], password: PASSWORD }, 200);
      }).finally(() => {
        loginsRunning = false;
      });
      const loadedHealth = await loadedHealthPromise;
      if (run.failures.length > 0) {
        errors.push(`${run.failures.length} logins failed, first: ${run.failures[0]?.message ?? ''}`);
      }

      const login = rounded(summarize(run.samples.map((sample) => sample.ms)));
      const loginsPerSecond = round1((run.samples.length / run.wallMs) * 1000);
      const idle = rounded(summarize(idleHealth));
      const loaded = rounded(summarize(loadedHealth));
      const pass = loaded.p99 <= HEALTH_P99_TARGET_MS;

      ctx.print(`logins: ${run.samples.length} at concurrency ${concurrency}, bcrypt cost 12`);
      ctx.print(`  logins/s            ${loginsPerSecond}`);
      ctx.print(`  login latency ms    p50 ${login.p50}  p95 ${login.p95}  p99 ${login.p99}`);
      ctx.print(
        `/health/live ms       idle:   p50 ${idle.p50}  p95 ${idle.p95}  p99 ${idle.p99}  (${idle.count} probes)`,
      );
      ctx.print(
        `                      loaded: p50 ${loaded.p50}  p95 ${loaded.p95}  p99 ${loaded.p99}  (${loaded.count} probes)`,
      );
      ctx.print(`target: /health/live p99 ≤ ${HEALTH_P99_TARGET_MS} ms under login load: ${pass ? 'PASS' : 'MISS'}`);
      ctx.print(`peak RSS: API ${round1(stack.rss.api.report().peakMb)} MB`);

      return {
        id: 'logins',
        data: {
          startedAt: new Date().toISOString(),
          parameters: { logins: total, concurrency, bcryptCost: 12 },
          loginsPerSecond,
          loginLatencyMs: login,
          healthLiveMs: { idle, loaded },
          target: {
            name: '/health/live p99 under login load',
            targetMs: HEALTH_P99_TARGET_MS,
            actual: loaded.p99,
            pass,
          },
          apiPeakRssMb: round1(stack.rss.api.report().peakMb),
        },
        errors,
      };
    } finally {
      const problems = await stack.close();
      errors.push(...problems);
    }
  },
};

/** Sequential GET /health/live probes, 10 ms apart, while `keepGoing()` (or until `count` probes). */
async function probeHealth(
  baseUrl: string,
  signal: AbortSignal,
  keepGoing: () => boolean,
  count = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  const samples: number[] = [];
  const bounded = Number.isFinite(count);
  while (bounded ? samples.length < count : keepGoing()) {
    signal.throwIfAborted();
    const started = performance.now();
    // No abort signal on each request: undici would keep a listener per request on the shared signal.
    const res = await fetch(`${baseUrl}/health/live`);
    await res.text();
    if (res.status !== 200) throw new Error(`/health/live answered ${res.status}`);
    samples.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return samples;
}
