import type { BenchContext } from '../bench-section';
import { num, pad, type TargetResult } from './chat-turn-report';
import type { ScrapeCounts } from './metrics-scraper';
import type { ModeResult } from './mode-result';
import type { SinkCounts } from './otlp-sink';
import { round1 } from './stats';

/** The observability section's settings, figures and printed report (bench/observability.bench.ts). */

/** Issue 11: throughput lost to metrics (scraped) and to tracing at full sampling, as % of the plain arm's. */
export const OBSERVABILITY_TARGETS = { concurrency: 8, metricsCostPct: 5, tracingCostPct: 15 } as const;

export interface ObservabilityOptions {
  /** Turns per arm. */
  turns: number;
  blocks: number;
  concurrency: number;
  warmup: number;
  scrapeIntervalMs: number;
  otlpProtocol: 'http/protobuf' | 'http/json';
  /** OTEL_BSP_SCHEDULE_DELAY of the traced processes. */
  batchDelayMs: number;
  /** Turns between the two scrapes that count the metric updates. */
  updateTurns: number;
  /** Turns' worth of metric updates replayed in-process. */
  replays: number;
}

export interface RecordingCost {
  turns: number;
  replays: number;
  perProcess: Record<
    string,
    { updateCallsPerTurn: number; seriesTouched: number; cpuUsPerTurn: number; families: string[] }
  >;
}

export interface ArmResult extends ModeResult {
  /** Each block's turns/s: how far the same arm moves between blocks, against which to read the costs. */
  blockTurnsPerSecond: number[];
}

type Arms = Record<'plain' | 'metrics' | 'tracing', ArmResult>;

export function observabilityFigures(
  arms: Arms,
  spans: SinkCounts,
  scrapes: ScrapeCounts,
  recording: RecordingCost,
  options: ObservabilityOptions,
) {
  const served = (arm: ModeResult): number => (arm.cpuMsPerTurn.api ?? NaN) + (arm.cpuMsPerTurn.worker ?? NaN);
  const throughputCost = (arm: ModeResult): number =>
    round1(((arms.plain.turnsPerSecond - arm.turnsPerSecond) / arms.plain.turnsPerSecond) * 100);
  const cpuCost = (arm: ModeResult) => ({
    ms: round1(served(arm) - served(arms.plain)),
    pct: round1(((served(arm) - served(arms.plain)) / served(arms.plain)) * 100),
  });
  // How far one arm's blocks spread (max − min, % of its turns/s): a cost below the larger of the two arms' spreads
  // cannot be told from the machine's noise.
  const spread = (arm: ArmResult): number =>
    round1(((Math.max(...arm.blockTurnsPerSecond) - Math.min(...arm.blockTurnsPerSecond)) / arm.turnsPerSecond) * 100);
  const noisePct = (arm: ArmResult): number => Math.max(spread(arm), spread(arms.plain));
  // The cost within each round of blocks (the arms run back to back), which slow drift between rounds does not reach.
  const roundCosts = (arm: ArmResult): number[] =>
    arm.blockTurnsPerSecond.map((rate, i) => {
      const plain = arms.plain.blockTurnsPerSecond[i] ?? NaN;
      return round1(((plain - rate) / plain) * 100);
    });
  const cost = {
    metrics: {
      throughputPct: throughputCost(arms.metrics),
      roundCostsPct: roundCosts(arms.metrics),
      rounds: roundsVerdict(roundCosts(arms.metrics), OBSERVABILITY_TARGETS.metricsCostPct),
      noisePct: noisePct(arms.metrics),
      apiWorkerCpuPerTurn: cpuCost(arms.metrics),
    },
    tracing: {
      throughputPct: throughputCost(arms.tracing),
      roundCostsPct: roundCosts(arms.tracing),
      rounds: roundsVerdict(roundCosts(arms.tracing), OBSERVABILITY_TARGETS.tracingCostPct),
      noisePct: noisePct(arms.tracing),
      apiWorkerCpuPerTurn: cpuCost(arms.tracing),
    },
  };
  const targets: TargetResult[] = [
    costTarget('metrics (scraped every second)', OBSERVABILITY_TARGETS.metricsCostPct, cost.metrics.throughputPct),
    costTarget('tracing (full sampling)', OBSERVABILITY_TARGETS.tracingCostPct, cost.tracing.throughputPct),
  ];
  const measured = Math.max(1, arms.tracing.latencyMs.count);
  const perTurn = (n: number): number => round1(n / measured);
  const recordingUs = Object.values(recording.perProcess).reduce((sum, p) => sum + p.cpuUsPerTurn, 0);
  return {
    parameters: {
      ...options,
      arms:
        'plain: tracing off, /metrics never scraped; metrics: API and worker /metrics scraped every scrapeIntervalMs; ' +
        'tracing: OTLP/HTTP to a sink in the bench process, parentbased_always_on. Each arm its own API + worker.',
      order: `${options.blocks} blocks per arm: plain, metrics, tracing, then tracing, metrics, plain, …`,
      costDefinition: "(plain turns/s − arm's turns/s) / plain turns/s; CPU: API + worker CPU ms per turn vs plain",
    },
    machine: { cores: arms.plain.cpu.cores, node: process.version },
    arms,
    cost,
    targets: { atConcurrency: OBSERVABILITY_TARGETS.concurrency, results: targets },
    spans: {
      ...spans,
      perTurn: perTurn(spans.spans),
      perTurnByService: Object.fromEntries(Object.entries(spans.spansByService).map(([s, n]) => [s, perTurn(n)])),
      perTurnByName: Object.fromEntries(
        Object.entries(spans.spansByName)
          .sort(([, a], [, b]) => b - a)
          .map(([name, n]) => [name, perTurn(n)]),
      ),
      tracesPerTurn: round1(spans.traces / measured),
      kbPerTurn: round1(spans.bytes / 1024 / measured),
      decodeMsPerTurn: Math.round((spans.decodeMs / measured) * 100) / 100,
    },
    scrapes,
    metricRecording: {
      ...recording,
      cpuUsPerTurn: round1(recordingUs),
      plainApiWorkerCpuMsPerTurn: round1(served(arms.plain)),
      shareOfPlainCpuPct: Math.round((recordingUs / 10 / served(arms.plain)) * 100) / 100,
    },
  };
}

export type ObservabilityFigures = ReturnType<typeof observabilityFigures>;

/** Whether every round of blocks agrees with the target: when they do not, one run on this machine settles nothing. */
function roundsVerdict(costs: number[], maxPct: number): 'every round within' | 'every round over' | 'rounds disagree' {
  if (costs.every((x) => x <= maxPct)) return 'every round within';
  if (costs.every((x) => x > maxPct)) return 'every round over';
  return 'rounds disagree';
}

function costTarget(name: string, maxPct: number, actual: number): TargetResult {
  return { name, target: `≤ ${maxPct} %`, actual, unit: '%', pass: Number.isFinite(actual) && actual <= maxPct };
}

export function printObservabilityReport(
  ctx: BenchContext,
  options: ObservabilityOptions,
  figures: ObservabilityFigures,
): void {
  const p = ctx.print;
  const { arms, cost, spans, scrapes, metricRecording: rec } = figures;
  p('');
  p(`Chat turns per arm (ms), ${options.turns} turns per arm at concurrency ${options.concurrency}`);
  p(
    `${pad('arm', 34)}${num('p50')}${num('p95')}${num('mean')}${num('turns/s')}${num('failed')}${num('API ms', 10)}${num('worker ms', 11)}`,
  );
  for (const [name, arm] of [
    ['plain (no tracing, not scraped)', arms.plain],
    [`metrics (scraped every ${options.scrapeIntervalMs / 1000} s)`, arms.metrics],
    ['tracing (every span exported)', arms.tracing],
  ] as const) {
    const l = arm.latencyMs;
    p(
      `${pad(name, 34)}${num(l.p50)}${num(l.p95)}${num(l.mean)}${num(arm.turnsPerSecond)}${num(arm.failures)}` +
        `${num(arm.cpuMsPerTurn.api ?? '?', 10)}${num(arm.cpuMsPerTurn.worker ?? '?', 11)}`,
    );
  }
  p("(API ms, worker ms: CPU time per turn of that arm's processes)");
  p('turns/s of each block, in the order run (the spread of one arm is the noise the costs sit in):');
  for (const name of ['plain', 'metrics', 'tracing'] as const) {
    const blocks = arms[name].blockTurnsPerSecond;
    const spread = round1(((Math.max(...blocks) - Math.min(...blocks)) / arms[name].turnsPerSecond) * 100);
    p(`  ${pad(name, 10)}${blocks.map((x) => num(x, 7)).join('')}   (max − min = ${spread} % of the arm's turns/s)`);
  }
  p('');
  p(
    `Cost against plain, as % of its throughput${options.concurrency === 8 ? '' : ' (targets are defined at concurrency 8)'}`,
  );
  figures.targets.results.forEach((t, i) => {
    const c = cost[i === 0 ? 'metrics' : 'tracing'];
    p(`  ${pad(`${t.name} ${t.target}`, 44)}${num(`${t.actual} ${t.unit}`, 10)}  ${t.pass ? 'PASS' : 'MISS'}`);
    const rounds = c.roundCostsPct.map((x) => `${x} %`).join(', ');
    p(`    ${pad('in each round of blocks', 42)}${rounds}: ${c.rounds}`);
  });
  p(`  (blocks of one arm spread by up to ${Math.max(cost.metrics.noisePct, cost.tracing.noisePct)} % of its turns/s)`);
  for (const name of ['metrics', 'tracing'] as const) {
    const c = cost[name].apiWorkerCpuPerTurn;
    p(
      `  ${pad(`${name}: API + worker CPU per turn`, 44)}${num(`${c.ms >= 0 ? '+' : ''}${c.ms} ms`, 10)}  (${c.pct >= 0 ? '+' : ''}${c.pct} %)`,
    );
  }
  p('');
  const scrapeTotal = Object.entries(scrapes.scrapes)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const sizes = Object.entries(scrapes.meanBytes)
    .map(([name, b]) => `${name} ${round1(b / 1024)} KB`)
    .join(', ');
  p(
    `Scrapes during the metrics arm: ${scrapeTotal}; ${scrapes.failures} failed; mean ${scrapes.meanMs} ms; body ${sizes}`,
  );
  const byService = Object.entries(spans.perTurnByService)
    .map(([service, n]) => `${service || '(no service.name)'} ${n}`)
    .join(', ');
  p(
    `Spans received (${options.otlpProtocol}): ${spans.spans} in ${spans.requests} export requests, ` +
      `${spans.perTurn} per turn (${byService}); ${spans.traces} traces = ${spans.tracesPerTurn} per turn; ` +
      `${spans.rejected} rejected; ${spans.kbPerTurn} KB and ${spans.decodeMsPerTurn} ms ` +
      'of reading in the bench process per turn',
  );
  for (const [name, n] of Object.entries(spans.perTurnByName)) p(`  ${num(n, 6)}  ${name}`);
  p('');
  p(
    `Recording metrics (always on), counted from two scrapes around ${rec.turns} turns, replayed ${rec.replays} turns' worth`,
  );
  for (const [name, proc] of Object.entries(rec.perProcess)) {
    p(
      `  ${pad(name, 8)}${num(proc.updateCallsPerTurn)} updates per turn over ${proc.seriesTouched} series → ` +
        `${proc.cpuUsPerTurn} µs CPU per turn`,
    );
  }
  p(
    `  together ${rec.cpuUsPerTurn} µs per turn = ${rec.shareOfPlainCpuPct} % of the ${rec.plainApiWorkerCpuMsPerTurn} ms ` +
      'of API + worker CPU a plain turn takes',
  );
  p('');
  p('Machine busy (all cores, any process, other jobs included) during each arm');
  for (const name of ['plain', 'metrics', 'tracing'] as const) {
    const other = Object.entries(arms[name].cpuMsPerTurn)
      .filter(([proc]) => proc !== 'api' && proc !== 'worker')
      .map(([proc, ms]) => `${proc} ${ms}`)
      .join(', ');
    p(
      `  ${pad(name, 10)}${num(`${arms[name].cpu.machineBusyPct} %`, 8)} of ${arms[name].cpu.cores} cores; CPU ms per turn of the rest (shared): ${other}`,
    );
  }
}
