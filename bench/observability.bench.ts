import { loadavg } from 'node:os';
import { envChoice, envInt, type BenchContext, type BenchResult, type BenchSection } from './bench-section';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { type Arm, runArmBlocks } from './support/arm-blocks';
import { type BenchStack, freePort, sleep, startBenchStack } from './support/bench-stack';
import { createConversations, expectEcho, question } from './support/bench-turns';
import { coreMetricReplay } from './support/core-metric-replay';
import { findServicePids } from './support/cpu';
import { expectNoFailures, runLanes } from './support/lanes';
import {
  parseExposition,
  replayCost,
  updateCalls,
  updatesBetween,
  type MetricUpdate,
  type UpdateFilter,
} from './support/metric-updates';
import { MetricsScraper, scrapeText } from './support/metrics-scraper';
import { modeResult } from './support/mode-result';
import {
  OBSERVABILITY_TARGETS,
  type ObservabilityOptions,
  type ArmResult,
  type RecordingCost,
  observabilityFigures,
  printObservabilityReport,
} from './support/observability-report';
import { type OtlpSink, startOtlpSink } from './support/otlp-sink';

export const observabilitySection: BenchSection = {
  id: 'observability',
  title: 'Observability: chat-turn throughput with metrics scraped and with tracing on, against neither',
  run: runObservabilityBench,
};

type ArmName = 'plain' | 'metrics' | 'tracing';
const ARMS: readonly ArmName[] = ['plain', 'metrics', 'tracing'];

interface ArmStack {
  name: ArmName;
  stack: BenchStack;
  api: ApiClient;
  lanes: string[];
  workerMetricsUrl?: string;
}

/**
 * The chat-turns section's API turn (HTTP → start + result → worker, fake LLM at 0 ms) in three arms, each with
 * its own API and worker (tracing is decided when a process starts), run in blocks A B C, C B A, … so drift hits all:
 * `plain` (no tracing, never scraped), `metrics` (both processes' /metrics scraped every second, far more often than
 * Prometheus's usual 15 s, so an upper bound) and `tracing` (every span exported over OTLP/HTTP to a sink in this
 * process, full sampling). Then what recording the metrics costs, which no arm can switch off: the updates a few
 * turns make, read from two scrapes, replayed here on prom-client objects (the Temporal core's through the worker's
 * intake, TemporalCoreMetrics).
 * Settings: BENCH_OBS_TURNS (400 per arm), BENCH_OBS_BLOCKS (4), BENCH_OBS_CONCURRENCY (8), BENCH_OBS_WARMUP (20),
 * BENCH_OBS_SCRAPE_MS (1000), BENCH_OBS_OTLP_PROTOCOL (http/protobuf | http/json), BENCH_OBS_BSP_DELAY_MS (5000, the
 * span batch delay), BENCH_OBS_UPDATE_TURNS (20), BENCH_OBS_REPLAYS (20000 turns' worth).
 */
export async function runObservabilityBench(ctx: BenchContext): Promise<BenchResult> {
  const options = readOptions(ctx);
  const startedAt = new Date();
  const loadBefore = loadavg().map(round2);
  ctx.print(
    `Observability: ${options.turns} turns per arm at concurrency ${options.concurrency} in ${options.blocks} blocks ` +
      `per arm, ${options.warmup} warm-up turns per arm, fake LLM at 0 ms; load average before ${loadBefore.join(' ')}.`,
  );
  const errors: string[] = [];
  const sink = await startOtlpSink();
  const stacks: ArmStack[] = [];
  try {
    for (const name of ARMS) stacks.push(await startArm(ctx, name, options, sink));
    const data = await measure(ctx, options, stacks, sink, errors);
    const loadAfter = loadavg().map(round2);
    ctx.print(`load average after: ${loadAfter.join(' ')} (1, 5, 15 min; ${data.machine.cores} cores)`);
    return {
      id: observabilitySection.id,
      data: { startedAt: startedAt.toISOString(), ...data, loadAverage: { before: loadBefore, after: loadAfter } },
      errors,
    };
  } finally {
    for (const { name, stack } of stacks.reverse()) {
      for (const problem of await stack.close()) errors.push(`cleanup (${name}): ${problem}`);
      const logs = { api: stack.api.logCounts, worker: stack.worker.logCounts };
      if (logs.api.error + logs.worker.error > 0) {
        ctx.print(
          `note (${name}): error log lines: API ${logs.api.error}, worker ${logs.worker.error}. Worker's last:`,
        );
        ctx.print(stack.worker.tail(10));
      }
    }
    await sink.close();
  }
}

function readOptions(ctx: BenchContext): ObservabilityOptions {
  return {
    turns: envInt(ctx, 'BENCH_OBS_TURNS', 400),
    blocks: envInt(ctx, 'BENCH_OBS_BLOCKS', 4, 1, 100),
    concurrency: envInt(ctx, 'BENCH_OBS_CONCURRENCY', OBSERVABILITY_TARGETS.concurrency, 1, 256),
    warmup: envInt(ctx, 'BENCH_OBS_WARMUP', 20, 0),
    scrapeIntervalMs: envInt(ctx, 'BENCH_OBS_SCRAPE_MS', 1000, 100, 60_000),
    otlpProtocol: envChoice(ctx, 'BENCH_OBS_OTLP_PROTOCOL', ['http/protobuf', 'http/json'] as const, 'http/protobuf'),
    batchDelayMs: envInt(ctx, 'BENCH_OBS_BSP_DELAY_MS', 5000, 100, 60_000),
    updateTurns: envInt(ctx, 'BENCH_OBS_UPDATE_TURNS', 20, 1, 10_000),
    replays: envInt(ctx, 'BENCH_OBS_REPLAYS', 20_000, 100, 10_000_000),
  };
}

/** One arm's API and worker; only the tracing arm gets an OTLP endpoint, only the metrics arm a known worker port. */
async function startArm(
  ctx: BenchContext,
  name: ArmName,
  options: ObservabilityOptions,
  sink: OtlpSink,
): Promise<ArmStack> {
  ctx.print(`starting the ${name} arm's API and worker…`);
  const overrides: Record<string, string> = {};
  let workerMetricsUrl: string | undefined;
  if (name === 'metrics') {
    const port = await freePort();
    overrides.WORKER_METRICS_PORT = String(port);
    workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  }
  if (name === 'tracing') {
    overrides.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
    overrides.OTEL_EXPORTER_OTLP_PROTOCOL = options.otlpProtocol;
    overrides.OTEL_TRACES_SAMPLER = 'parentbased_always_on';
    overrides.OTEL_BSP_SCHEDULE_DELAY = String(options.batchDelayMs);
  }
  const stack = await startBenchStack(ctx, `obs_${name}`, overrides);
  // The pids name each arm's CPU profiles (BENCH_CPU_PROFILE_DIR writes CPU.<date>.<time>.<pid>.….cpuprofile).
  ctx.print(`  ${name}: API pid ${stack.api.pid}, worker pid ${stack.worker.pid}`);
  const api = new ApiClient(stack.baseUrl, ctx.signal);
  try {
    await signUpBenchUser(api);
    const lanes = await createConversations(api, options.concurrency, name);
    return { name, stack, api, lanes, ...(workerMetricsUrl ? { workerMetricsUrl } : {}) };
  } catch (error) {
    await stack.close();
    throw error;
  }
}

async function measure(
  ctx: BenchContext,
  options: ObservabilityOptions,
  stacks: ArmStack[],
  sink: OtlpSink,
  errors: string[],
) {
  const [plain, metrics, tracing] = ARMS.map((name) => {
    const found = stacks.find((s) => s.name === name);
    if (!found) throw new Error(`the ${name} arm did not start`);
    return found;
  }) as [ArmStack, ArmStack, ArmStack];
  const temporalAddress = plain.stack.config.temporal.address;
  const shared = findServicePids(temporalAddress.slice(temporalAddress.lastIndexOf(':') + 1));
  const scraper = new MetricsScraper(scrapeTargets(metrics), options.scrapeIntervalMs);
  const drain = (): Promise<void> => waitForQuietSink(sink, options.batchDelayMs + 700, ctx.signal);

  if (options.warmup > 0) {
    ctx.print(`warming up (${options.warmup} turns per arm)…`);
    for (const arm of stacks) {
      const lanes = { total: options.warmup, lanes: Math.min(options.concurrency, options.warmup), signal: ctx.signal };
      expectNoFailures(await runLanes(lanes, turnOf(arm, 'warm-up ')), `${arm.name} warm-up`);
    }
    await drain();
  }
  if (sink.counts().spans === 0 && options.warmup > 0) {
    errors.push('tracing: the OTLP sink received no span from the warm-up turns');
  }
  sink.reset();

  ctx.print(`measuring in ${options.blocks} blocks per arm (plain, metrics, tracing, then the reverse, …)…`);
  const arms: Arm<unknown>[] = [plain, metrics, tracing].map((arm) => ({
    name: arm.name,
    turn: turnOf(arm, ''),
    pids: { api: arm.stack.api.pid, worker: arm.stack.worker.pid, ...shared },
    ...(arm === metrics ? { before: () => scraper.start(), after: () => scraper.stop() } : {}),
    ...(arm === tracing ? { settle: drain } : {}),
  }));
  const runs = await runArmBlocks({ ...options, signal: ctx.signal }, arms);
  const results = Object.fromEntries(
    ARMS.map((name, i) => {
      const run = runs[i];
      if (!run) throw new Error(`no run for ${name}`);
      return [name, { ...modeResult(run.run, run.cpu, options.turns), blockTurnsPerSecond: run.blockTurnsPerSecond }];
    }),
  ) as Record<ArmName, ArmResult>;
  for (const name of ARMS) {
    const result = results[name];
    if (result.failures > 0) {
      errors.push(
        `${name}: ${result.failures} of ${result.turns} turns failed, e.g. ${result.firstFailures.join(' | ')}`,
      );
    }
  }

  const spans = sink.counts();
  if (spans.spans === 0) errors.push('tracing: the OTLP sink received no span from the measured turns');
  if (spans.rejected > 0) errors.push(`tracing: the sink could not read ${spans.rejected} export requests`);
  const scrapes = scraper.counts();
  if (Object.values(scrapes.scrapes).reduce((a, b) => a + b, 0) === 0) errors.push('metrics: no scrape succeeded');
  if (scrapes.failures > 0) errors.push(`metrics: ${scrapes.failures} scrapes failed, first: ${scrapes.firstFailure}`);

  ctx.print(`counting the metric updates of ${options.updateTurns} turns and replaying them ${options.replays} times…`);
  const recording = await recordingCost(ctx, options, metrics);

  const figures = observabilityFigures(results, spans, scrapes, recording, options);
  printObservabilityReport(ctx, options, figures);
  return figures;
}

function turnOf(arm: ArmStack, label: string): (lane: number, index: number) => Promise<string> {
  return async (lane, index) => {
    const conversation = arm.lanes[lane];
    if (conversation === undefined) throw new Error(`no conversation for lane ${lane}`);
    const content = `${label}${question(index)}`;
    const answer = await arm.api.call<{ turnId: string; assistantMessage: { content: string } }>(
      'POST',
      `/api/v1/conversations/${conversation}/messages`,
      { content },
    );
    expectEcho(answer.assistantMessage.content, content);
    return answer.turnId;
  };
}

function scrapeTargets(arm: ArmStack): { name: string; url: string }[] {
  if (!arm.workerMetricsUrl) throw new Error('the metrics arm has no worker metrics port');
  return [
    { name: 'api', url: `${arm.stack.baseUrl}/metrics` },
    { name: 'worker', url: arm.workerMetricsUrl },
  ];
}

/** Waits until no span has arrived for `quietMs` (the exporters flushed their batches), at most 30 s. */
async function waitForQuietSink(sink: OtlpSink, quietMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = sink.counts().spans;
  let changedAt = Date.now();
  while (Date.now() - changedAt < quietMs && Date.now() < deadline) {
    signal.throwIfAborted();
    await sleep(200);
    const now = sink.counts().spans;
    if (now !== last) [last, changedAt] = [now, Date.now()];
  }
}

/** Families and label sets that turns do not move: the Node.js process series, the scrapes' own requests. */
const RECORDED: UpdateFilter = {
  skipFamily: (family) => /^gigachat_(process_|nodejs_)/.test(family),
  skipLabels: (labels) => labels.route === '/metrics' || (labels.route ?? '').startsWith('/health'),
  countsAmounts: (family) => /_(tokens|bytes|chunks)_total$/.test(family),
  // Every request the API times is also counted in and out of the in-flight gauge.
  pairedGauges: { gigachat_http_request_duration_seconds: 'gigachat_http_requests_in_flight' },
};

/**
 * The updates `updateTurns` turns make in the metrics arm's API and worker (a scrape of each before and after, once
 * late audit rows and the Temporal core's one-second buffer are in), replayed `replays` times on prom-client objects.
 */
async function recordingCost(ctx: BenchContext, options: ObservabilityOptions, arm: ArmStack): Promise<RecordingCost> {
  const targets = scrapeTargets(arm);
  const scrapeAll = () => Promise.all(targets.map(async (t) => parseExposition(await scrapeText(t.url))));
  const before = await scrapeAll();
  const lanes = {
    total: options.updateTurns,
    lanes: Math.min(options.concurrency, options.updateTurns),
    signal: ctx.signal,
  };
  expectNoFailures(await runLanes(lanes, turnOf(arm, 'counted ')), 'metric-update turns');
  await sleep(2500);
  const after = await scrapeAll();
  const perProcess: RecordingCost['perProcess'] = {};
  targets.forEach((target, i) => {
    const updates: MetricUpdate[] = updatesBetween(before[i]!, after[i]!, RECORDED);
    const core = coreMetricReplay(updates);
    const cost = replayCost(core.rest, Math.max(1, Math.round(options.replays / options.updateTurns)), [core.replay]);
    perProcess[target.name] = {
      updateCallsPerTurn: round2(updateCalls(updates) / options.updateTurns),
      seriesTouched: updates.length,
      cpuUsPerTurn: round2(cost.cpuUsPerReplay / options.updateTurns),
      families: [...new Set(updates.map((u) => u.family))].sort(),
    };
  });
  return { turns: options.updateTurns, replays: options.replays, perProcess };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
