import type { BenchContext } from '../bench-section';
import type { ModeResult } from './mode-result';
import type { RssReport } from './rss-sampler';
import type { LatencySummary } from './stats';

/** The chat-turns section's settings, targets, results and printed report (bench/chat-turns.bench.ts). */

/** The issue's targets, on a 2-core machine with the fake LLM answering at once. */
export const CHAT_TURN_TARGETS = {
  concurrency: 8,
  overheadP50Ms: 50,
  overheadP95Ms: 150,
  turnsPerSecond: 25,
} as const;

export interface ChatTurnOptions {
  turns: number;
  concurrency: number;
  warmup: number;
  /** Blocks the measured turns are split into, alternating between the modes (BENCH_BLOCKS, default 4). */
  blocks: number;
  /** How many API turns' workflow histories to read for the time breakdown (0: none). */
  breakdownSample: number;
  /** Direct-to-Temporal variants: `auto` runs them when a target is missed. */
  variants: 'auto' | 'on' | 'off';
}

export interface TargetResult {
  name: string;
  target: string;
  actual: number;
  unit: string;
  pass: boolean;
}

export function printReport(
  ctx: BenchContext,
  options: ChatTurnOptions,
  modes: { local: ModeResult; api: ModeResult },
  overhead: { p50: number; p95: number; p99: number; mean: number },
  targets: TargetResult[],
  rss: { api: RssReport; worker: RssReport },
  phases: Record<string, LatencySummary>,
  breakdown: Record<string, { mean: number; p50: number; p95: number }> | undefined,
): void {
  const p = ctx.print;
  p('');
  p(`Chat turn latency (ms), ${options.turns} turns per mode at concurrency ${options.concurrency}`);
  p(
    `${pad('mode', 34)}${num('p50')}${num('p95')}${num('p99')}${num('mean')}${num('max')}${num('turns/s')}${num('failed')}`,
  );
  for (const [name, mode] of [
    ['in-process (no HTTP, no Temporal)', modes.local],
    ['API + Temporal (start + result)', modes.api],
  ] as const) {
    const l = mode.latencyMs;
    p(
      `${pad(name, 34)}${num(l.p50)}${num(l.p95)}${num(l.p99)}${num(l.mean)}${num(l.max)}` +
        `${num(mode.turnsPerSecond)}${num(mode.failures)}`,
    );
  }
  p(
    `${pad('overhead (API − in-process)', 34)}${num(overhead.p50)}${num(overhead.p95)}${num(overhead.p99)}${num(overhead.mean)}`,
  );
  p('');
  const note =
    options.concurrency === CHAT_TURN_TARGETS.concurrency ? '' : ' (the targets are defined at concurrency 8)';
  p(`Targets${note}`);
  for (const t of targets) {
    p(`  ${pad(`${t.name} ${t.target}`, 36)}${num(`${t.actual} ${t.unit}`, 16)}  ${t.pass ? 'PASS' : 'MISS'}`);
  }
  p('');
  p('Peak RSS (MB)                  sampled peak   kernel high-water   at ready');
  for (const [name, r] of [
    ['API', rss.api],
    ['worker', rss.worker],
  ] as const) {
    p(`  ${pad(name, 28)}${num(r.peakMb, 14)}${num(r.hwmMb, 20)}${num(r.startMb, 11)}`);
  }
  p('');
  p('CPU time per turn (ms), by process; machine busy = all cores, any process (other users included)');
  for (const [name, mode] of [
    ['in-process', modes.local],
    ['API + Temporal', modes.api],
  ] as const) {
    const used = Object.entries(mode.cpuMsPerTurn)
      .map(([proc, ms]) => `${proc} ${ms}`)
      .join(', ');
    p(`  ${pad(name, 16)} ${used}; machine ${mode.cpu.machineBusyPct}% busy of ${mode.cpu.cores} cores`);
  }
  p('');
  p('In-process phases (ms)                 p50      p95     mean');
  for (const [name, s] of Object.entries(phases)) p(`  ${pad(name, 32)}${num(s.p50)}${num(s.p95)}${num(s.mean)}`);
  if (breakdown) {
    p('');
    p('Where an API turn spends its time (sampled workflow histories; ms)      p50      p95     mean');
    for (const [name, s] of Object.entries(breakdown)) p(`  ${pad(name, 66)}${num(s.p50)}${num(s.p95)}${num(s.mean)}`);
  }
}

export function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

export function num(value: number | string, width = 9): string {
  return String(value).padStart(width);
}
