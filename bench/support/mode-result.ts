import type { CpuReport } from './cpu';
import type { LaneRun } from './lanes';
import { type LatencySummary, round1, rounded, summarize } from './stats';

/** One mode's figures over a run of turns: latency, throughput, failures and CPU per turn by process. */
export interface ModeResult {
  latencyMs: LatencySummary;
  turnsPerSecond: number;
  wallMs: number;
  turns: number;
  failures: number;
  /** Turns never sent because the run stopped after too many failures. */
  notRun: number;
  firstFailures: string[];
  cpu: CpuReport;
  /** CPU time each process spent per completed turn: what caps throughput on a small machine. */
  cpuMsPerTurn: Record<string, number>;
}

/** The figures of `turns` turns sent in `run`, with the CPU measured around it. */
export function modeResult(run: LaneRun<unknown>, cpu: CpuReport, turns: number): ModeResult {
  return {
    latencyMs: rounded(summarize(run.samples.map((sample) => sample.ms))),
    turnsPerSecond: round1(run.samples.length / (run.wallMs / 1000)),
    wallMs: Math.round(run.wallMs),
    turns,
    failures: run.failures.length,
    notRun: Math.max(0, turns - run.samples.length - run.failures.length),
    firstFailures: run.failures.slice(0, 3).map((failure) => failure.message),
    cpu,
    cpuMsPerTurn: Object.fromEntries(
      Object.entries(cpu.cpuS).map(([name, seconds]) => [
        name,
        round1((seconds * 1000) / Math.max(1, run.samples.length)),
      ]),
    ),
  };
}
