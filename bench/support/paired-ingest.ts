import type { BenchStack } from './bench-stack';
import { CpuMeter, waitUntilQuiet } from './cpu';
import { ingestThroughApi, MB, serverIngestMs, syntheticMarkdown } from './ingest-through-api';

/** One measured round of one side: `files` uploaded at once and ingested until ready. */
export interface IngestRound {
  bytes: number;
  /** The server's span: the first upload's ingest run started to the last one closed (see `serverIngestMs`). */
  ms: number;
  /** The client's wall time, polled every 100 ms: printed for comparison, not used for the costs. */
  clientMs: number;
  /** CPU seconds of the side's API and worker and of the shared services during the round. */
  cpuS: number;
  byProcess: Record<string, number>;
}

export interface IngestSide<Name extends string> {
  name: Name;
  stack: BenchStack;
}

export interface PairedIngestOptions {
  rounds: number;
  warmupRounds: number;
  files: number;
  fileMb: number;
  /** The shared services' pids (MySQL, Temporal, SeaweedFS), whose CPU counts for whichever side is ingesting. */
  services: Record<string, number>;
  signal: AbortSignal;
  errors: string[];
}

/**
 * Ingests rounds on two stacks in the order A B B A A B B A …, one side at a time, each round started only once the
 * machine is quiet again. Every round ingests more rows into the same MySQL server, so rounds slow down as the run
 * goes on (MySQL's CPU per MB doubled over 16 rounds of 32 MB here): comparing a round with the one right after it
 * mostly measures that growth, in favour of whichever side went first. Over a quartet A B B A, a trend that is
 * linear over four rounds cancels, so the costs are taken per quartet (`quartetCosts`). The warm-up rounds, unmeasured,
 * compile both stacks' code paths and fill MySQL's buffer pool, the step in which rounds slow down the most.
 */
export async function alternateIngestRounds<Name extends string>(
  sides: readonly [IngestSide<Name>, IngestSide<Name>],
  options: PairedIngestOptions,
): Promise<Record<Name, IngestRound[]>> {
  const { files, fileMb, signal, errors } = options;
  const measured = {} as Record<Name, IngestRound[]>;
  for (const side of sides) measured[side.name] = [];
  const total = options.warmupRounds + options.rounds;
  for (let round = 0; round < total; round++) {
    const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
    for (const side of order) {
      const texts = Array.from({ length: files }, (_, i) => syntheticMarkdown(fileMb * MB, round * 100 + i + 1));
      if (round < options.warmupRounds) {
        await ingestThroughApi(side.stack.baseUrl, texts, signal, errors);
        continue;
      }
      await waitUntilQuiet({ signal });
      const pids = { api: side.stack.api.pid, worker: side.stack.worker.pid, ...options.services };
      const cpu = new CpuMeter(pids).start();
      const run = await ingestThroughApi(side.stack.baseUrl, texts, signal, errors);
      const byProcess = cpu.stop().cpuS;
      measured[side.name].push({
        bytes: texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0),
        ms: await serverIngestMs(side.stack.temporal, run.fileIds),
        clientMs: run.wallMs,
        cpuS: Object.values(byProcess).reduce((sum, seconds) => sum + seconds, 0),
        byProcess,
      });
    }
  }
  return measured;
}

/**
 * The cost of `with` against `without` per quartet (rounds 2k and 2k + 1 of each side, which ran as A B B A), in %:
 * throughput (MB/s over the quartet's bytes and time) and CPU per MB. An odd last round is left out.
 */
export function quartetCosts(
  without: readonly IngestRound[],
  withIt: readonly IngestRound[],
): { mbPerSPct: number[]; cpuPerMbPct: number[] } {
  const mbPerSPct: number[] = [];
  const cpuPerMbPct: number[] = [];
  for (let k = 0; 2 * k + 1 < Math.min(without.length, withIt.length); k++) {
    const [a, b] = [sum(without.slice(2 * k, 2 * k + 2)), sum(withIt.slice(2 * k, 2 * k + 2))];
    mbPerSPct.push(((a.bytes / a.ms - b.bytes / b.ms) / (a.bytes / a.ms)) * 100);
    cpuPerMbPct.push(((b.cpuS / b.bytes - a.cpuS / a.bytes) / (a.cpuS / a.bytes)) * 100);
  }
  return { mbPerSPct, cpuPerMbPct };
}

function sum(rounds: readonly IngestRound[]): { bytes: number; ms: number; cpuS: number } {
  return rounds.reduce(
    (total, r) => ({ bytes: total.bytes + r.bytes, ms: total.ms + r.ms, cpuS: total.cpuS + r.cpuS }),
    { bytes: 0, ms: 0, cpuS: 0 },
  );
}
