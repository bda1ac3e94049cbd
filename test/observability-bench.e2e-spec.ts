import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { runArmBlocks } from '../bench/support/arm-blocks';
import { coreMetricReplay } from '../bench/support/core-metric-replay';
import {
  type MetricUpdate,
  parseExposition,
  replayCost,
  updateCalls,
  updatesBetween,
} from '../bench/support/metric-updates';
import { MetricsScraper } from '../bench/support/metrics-scraper';
import { type ArmResult, observabilityFigures } from '../bench/support/observability-report';
import { type OtlpSink, startOtlpSink } from '../bench/support/otlp-sink';
import { closeServer, listen } from './fakes/http-server';

/** The observability bench's own parts (bench/observability.bench.ts): if they miscount, its figures are wrong. */

describe('the OTLP sink', () => {
  let sink: OtlpSink;
  beforeEach(async () => {
    sink = await startOtlpSink();
  });
  afterEach(() => sink.close());

  async function exportSpans(exporter: OtlpProtobufExporter | OtlpJsonExporter, service: string): Promise<void> {
    const provider = new BasicTracerProvider({
      resource: new Resource({ 'service.name': service }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('bench-test');
    for (let t = 0; t < 3; t++) {
      const root = tracer.startSpan(`root ${t}`);
      const parent = trace.setSpan(context.active(), root);
      for (let c = 0; c < 4; c++) tracer.startSpan(`child ${c}`, {}, parent).end();
      root.end();
    }
    await provider.forceFlush();
    await provider.shutdown();
  }

  it.each([
    ['protobuf', () => new OtlpProtobufExporter({ url: `${sink.url}/v1/traces` })],
    ['JSON', () => new OtlpJsonExporter({ url: `${sink.url}/v1/traces` })],
  ])('counts every span the SDK exports in %s, by service, and their traces', async (_, exporter) => {
    await exportSpans(exporter(), 'svc-a');
    await exportSpans(exporter(), 'svc-b');
    const counts = sink.counts();
    expect(counts.spansByService).toEqual({ 'svc-a': 15, 'svc-b': 15 });
    expect(counts.spansByName).toEqual({
      'svc-a bench-test: root 0': 1,
      'svc-a bench-test: root 1': 1,
      'svc-a bench-test: root 2': 1,
      'svc-a bench-test: child 0': 3,
      'svc-a bench-test: child 1': 3,
      'svc-a bench-test: child 2': 3,
      'svc-a bench-test: child 3': 3,
      'svc-b bench-test: root 0': 1,
      'svc-b bench-test: root 1': 1,
      'svc-b bench-test: root 2': 1,
      'svc-b bench-test: child 0': 3,
      'svc-b bench-test: child 1': 3,
      'svc-b bench-test: child 2': 3,
      'svc-b bench-test: child 3': 3,
    });
    expect(counts.spans).toBe(30);
    expect(counts.traces).toBe(6);
    expect(counts.rejected).toBe(0);
    sink.reset();
    expect(sink.counts()).toMatchObject({ spans: 0, traces: 0, requests: 0 });
  });

  it('refuses a body that is not an export request, and counts it', async () => {
    const res = await fetch(`${sink.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0x05, 0x01]),
    });
    expect(res.status).toBe(400);
    expect(sink.counts()).toMatchObject({ spans: 0, requests: 1, rejected: 1 });
  });
});

describe('metric updates between two scrapes', () => {
  it('finds each observation and increment a stretch of work made, and none the scrapes or the process made', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ process: 'api' });
    const duration = new Histogram({
      name: 'gigachat_http_request_duration_seconds',
      help: 'h',
      labelNames: ['route'],
      buckets: [0.1, 1],
      registers: [registry],
    });
    const audits = new Counter({
      name: 'gigachat_audit_events_total',
      help: 'c',
      labelNames: ['action'],
      registers: [registry],
    });
    const cpu = new Counter({ name: 'gigachat_process_cpu_seconds_total', help: 'c', registers: [registry] });
    const tokens = new Counter({ name: 'gigachat_llm_tokens_total', help: 'c', registers: [registry] });
    new Gauge({ name: 'gigachat_http_requests_in_flight', help: 'g', registers: [registry] });
    audits.inc({ action: 'turn.completed' }, 2); // before: must not count
    const before = parseExposition(await registry.metrics());
    duration.observe({ route: '/a' }, 0.05);
    duration.observe({ route: '/a' }, 0.15);
    duration.observe({ route: '/metrics' }, 0.01);
    audits.inc({ action: 'turn.completed' });
    for (let i = 0; i < 3; i++) audits.inc({ action: 'auth.login' });
    tokens.inc(40);
    cpu.inc(1);
    const after = parseExposition(await registry.metrics());

    const updates = updatesBetween(before, after, {
      skipFamily: (family) => family.startsWith('gigachat_process_'),
      skipLabels: (labels) => labels.route === '/metrics',
      countsAmounts: (family) => family === 'gigachat_llm_tokens_total',
      pairedGauges: { gigachat_http_request_duration_seconds: 'gigachat_http_requests_in_flight' },
    });
    expect(updates).toEqual(
      expect.arrayContaining([
        {
          family: 'gigachat_http_request_duration_seconds',
          kind: 'histogram',
          labels: { route: '/a' },
          times: 2,
          value: expect.closeTo(0.1, 9) as number,
          buckets: [0.1, 1],
        },
        { family: 'gigachat_http_requests_in_flight', kind: 'gauge-inc-dec', labels: {}, times: 2, value: 1 },
        {
          family: 'gigachat_audit_events_total',
          kind: 'counter',
          labels: { action: 'turn.completed' },
          times: 1,
          value: 1,
        },
        {
          family: 'gigachat_audit_events_total',
          kind: 'counter',
          labels: { action: 'auth.login' },
          times: 3,
          value: 1,
        },
        { family: 'gigachat_llm_tokens_total', kind: 'counter', labels: {}, times: 1, value: 40 },
      ]),
    );
    expect(updates).toHaveLength(5);
    expect(updateCalls(updates)).toBe(2 + 4 + 1 + 3 + 1);

    const cost = replayCost(updates, 2000);
    expect(cost.iterations).toBe(2000);
    expect(cost.wallUsPerReplay).toBeGreaterThan(0);
    expect(cost.wallUsPerReplay).toBeLessThan(1000);
  });
});

describe('the Temporal core updates, replayed through the worker intake', () => {
  it('lands each update on the series it was read from, and leaves the others', async () => {
    const updates: MetricUpdate[] = [
      {
        family: 'gigachat_temporal_workflow_task_execution_latency_seconds',
        kind: 'histogram',
        labels: { workflow_type: 'chatTurn', task_queue: 'chat-x' },
        times: 2,
        value: 0.004,
        buckets: [0.001, 0.01],
      },
      { family: 'gigachat_temporal_sticky_cache_hit_total', kind: 'counter', labels: {}, times: 3, value: 1 },
      {
        family: 'gigachat_audit_events_total',
        kind: 'counter',
        labels: { action: 'turn.completed' },
        times: 1,
        value: 1,
      },
    ];
    const { replay, rest, core } = coreMetricReplay(updates);
    expect(rest.map((u) => u.family)).toEqual(['gigachat_audit_events_total']);
    replay();
    const text = await core.exposition();
    expect(text).toMatch(
      /^gigachat_temporal_workflow_task_execution_latency_seconds_count\{[^}]*task_queue="chat-x",workflow_type="chatTurn"[^}]*\} 2$/m,
    );
    expect(text).toMatch(/^gigachat_temporal_sticky_cache_hit_total\{process="worker"\} 3$/m);
  });
});

describe('arm blocks', () => {
  it('runs the arms in order and in reverse, settling each inside its block, every turn number once per arm', async () => {
    const log: string[] = [];
    const seen: Record<string, number[]> = { a: [], b: [], c: [] };
    const arm = (name: string) => ({
      name,
      pids: {},
      turn: async (_lane: number, index: number) => {
        seen[name]?.push(index);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return index;
      },
      before: () => void log.push(`${name}:before`),
      settle: async () => void log.push(`${name}:settle`),
      after: () => void log.push(`${name}:after`),
    });
    const runs = await runArmBlocks({ turns: 9, blocks: 3, concurrency: 2, signal: new AbortController().signal }, [
      arm('a'),
      arm('b'),
      arm('c'),
    ]);
    const order = log.filter((line) => line.endsWith(':before')).map((line) => line[0]);
    expect(order.join('')).toBe('abccbaabc');
    expect(log.slice(0, 3)).toEqual(['a:before', 'a:settle', 'a:after']);
    for (const name of ['a', 'b', 'c'])
      expect([...(seen[name] ?? [])].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(runs.map((run) => run.run.samples.length)).toEqual([9, 9, 9]);
    for (const run of runs) {
      expect(run.blockTurnsPerSecond).toHaveLength(3);
      for (const rate of run.blockTurnsPerSecond) expect(rate).toBeGreaterThan(0);
    }
  });
});

describe('the costs against plain', () => {
  const arm = (blocks: number[], apiMs: number, workerMs: number): ArmResult =>
    ({
      blockTurnsPerSecond: blocks,
      turnsPerSecond: blocks.reduce((a, b) => a + b, 0) / blocks.length,
      cpuMsPerTurn: { api: apiMs, worker: workerMs },
      latencyMs: { count: 100 },
      cpu: { cores: 2 },
    }) as unknown as ArmResult;
  it('is the lost share of throughput, judged per round of blocks as well as overall', () => {
    const figures = observabilityFigures(
      { plain: arm([10, 10], 10, 40), metrics: arm([10, 9.4], 10, 41), tracing: arm([8, 8], 12, 50) },
      {
        spans: 5000,
        spansByService: { a: 5000 },
        spansByName: {},
        traces: 100,
        requests: 9,
        rejected: 0,
        bytes: 1024,
        decodeMs: 5,
      },
      { scrapes: { api: 3 }, failures: 0, meanMs: 1, meanBytes: {} },
      {
        turns: 1,
        replays: 1,
        perProcess: { api: { updateCallsPerTurn: 3, seriesTouched: 2, cpuUsPerTurn: 50, families: [] } },
      },
      {
        turns: 200,
        blocks: 2,
        concurrency: 8,
        warmup: 0,
        scrapeIntervalMs: 1000,
        otlpProtocol: 'http/protobuf',
        batchDelayMs: 5000,
        updateTurns: 1,
        replays: 1,
      },
    );
    expect(figures.cost.metrics).toMatchObject({ throughputPct: 3, roundCostsPct: [0, 6], rounds: 'rounds disagree' });
    expect(figures.cost.tracing).toMatchObject({
      throughputPct: 20,
      roundCostsPct: [20, 20],
      rounds: 'every round over',
    });
    expect(figures.cost.tracing.apiWorkerCpuPerTurn).toEqual({ ms: 12, pct: 24 });
    expect(figures.targets.results.map((t) => t.pass)).toEqual([true, false]);
    expect(figures.spans.perTurn).toBe(50);
    expect(figures.metricRecording.shareOfPlainCpuPct).toBe(0.1);
  });
});

describe('the metrics scraper', () => {
  it('counts scrapes per target and the ones that failed', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('x 1\n');
      else res.writeHead(500).end();
    });
    const url = await listen(server, 0, '127.0.0.1');
    try {
      const scraper = new MetricsScraper(
        [
          { name: 'good', url: `${url}/ok` },
          { name: 'bad', url: `${url}/broken` },
        ],
        50,
      );
      scraper.start();
      await new Promise((resolve) => setTimeout(resolve, 280));
      await scraper.stop();
      const counts = scraper.counts();
      expect(counts.scrapes.good).toBeGreaterThanOrEqual(3);
      expect(counts.scrapes.bad).toBeUndefined();
      expect(counts.failures).toBeGreaterThanOrEqual(3);
      expect(counts.firstFailure).toContain('HTTP 500');
      expect(counts.meanBytes.good).toBe(4);
    } finally {
      await closeServer(server);
    }
  });
});
