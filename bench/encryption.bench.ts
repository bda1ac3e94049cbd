import type { BenchContext, BenchResult, BenchSection } from './bench-section';
import { envInt } from './bench-section';
import { createConversations, expectEcho, question } from './support/bench-turns';
import { addUp, alternateBlocks, type ModeRun } from './support/alternating-blocks';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { type BenchStack, startBenchStack } from './support/bench-stack';
import { findServicePids } from './support/cpu';
import { MB } from './support/ingest-through-api';
import { runLanes } from './support/lanes';
import { alternateIngestRounds, quartetCosts } from './support/paired-ingest';
import { median, medianConfidenceInterval, round1, rounded, summarize } from './support/stats';

/** The budget: encryption may cost at most this share of throughput (turns/s, ingest MB/s). */
const COST_TARGET_PCT = 5;
const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The processes whose work encryption changes during ingestion (the bench's CPU names). */
const ENCRYPTING_PROCESSES = ['api', 'worker', 'weed'];

interface Side {
  name: 'on' | 'off';
  stack: BenchStack;
  api: ApiClient;
  lanes: string[];
}

/**
 * What encryption at rest costs, in one run: two stacks side by side on the same services, one as deployed
 * (Temporal payloads through the AES-256-GCM codec, files through the envelope-encrypted store) and one with
 * `ENCRYPTION_AT_REST=off`. Durable chat turns through the API in alternating blocks (so machine noise hits both),
 * then ingestion end to end in alternating rounds. Reports throughput, latency and CPU (all processes) of each, and
 * the cost in %, against a 5 % budget.
 *
 * On two cores one stall (a GC pause, a flush, a slow poll) moves a block's wall time by tens of % while CPU per turn
 * barely moves, so the verdict uses the median of the paired costs (chat: block `i` on against block `i` off, which
 * ran next to each other; ingestion: quartets of rounds run A B B A, see `alternateIngestRounds`), and CPU per turn or
 * per MB beside it; the totals are printed too. Each median comes with its 95 % confidence interval (the sign test's,
 * no assumption about the noise), so a reader sees whether the run could tell a 5 % cost from none at all.
 * BENCH_ENCRYPTION_CALIBRATE=1 runs both stacks without encryption: what it reports as a cost is the bench's own bias.
 * An ingest round is timed by Temporal (first ingest run started to last closed), not by the client's polling, and
 * starts once the machine is quiet. Settings: BENCH_ENCRYPTION_TURNS (3840), BENCH_CONCURRENCY (8), BENCH_BLOCKS
 * (48), BENCH_WARMUP (20), BENCH_ENCRYPTION_FILES per round (4), BENCH_ENCRYPTION_FILE_MB (4),
 * BENCH_ENCRYPTION_INGEST_ROUNDS (32 per side, whole quartets), BENCH_ENCRYPTION_INGEST_WARMUP (6 rounds per side,
 * unmeasured). About 15 minutes.
 */
export const encryptionSection: BenchSection = {
  id: 'encryption',
  title: 'What encryption at rest costs: durable chat turns and ingestion, ENCRYPTION_AT_REST on vs off',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const turns = envInt(ctx, 'BENCH_ENCRYPTION_TURNS', 3840);
    const concurrency = envInt(ctx, 'BENCH_CONCURRENCY', 8, 1, 256);
    const blocks = envInt(ctx, 'BENCH_BLOCKS', 48, 1, 100);
    const warmup = envInt(ctx, 'BENCH_WARMUP', 20, 0);
    const files = envInt(ctx, 'BENCH_ENCRYPTION_FILES', 4, 1, 100);
    const fileMb = envInt(ctx, 'BENCH_ENCRYPTION_FILE_MB', 4, 1, 25);
    // Whole quartets (A B B A): an odd count is rounded up.
    const rounds = 2 * Math.ceil(envInt(ctx, 'BENCH_ENCRYPTION_INGEST_ROUNDS', 32, 2, 200) / 2);
    const warmupRounds = envInt(ctx, 'BENCH_ENCRYPTION_INGEST_WARMUP', 6, 0, 100);
    // A calibration: both stacks without encryption, so the "cost" printed is what the bench itself makes up.
    const calibration = ctx.env.BENCH_ENCRYPTION_CALIBRATE === '1';
    const errors: string[] = [];
    // Every ingest round signs up a user of its own: more than the default sign-ups a minute allows.
    const overrides = {
      RATE_LIMIT_FILES_MAX: '1000000',
      RATE_LIMIT_AUTH_MAX: '1000000',
      FILE_MAX_BYTES: String(26 * MB),
    };

    const stacks: BenchStack[] = [];
    try {
      const sides: Side[] = [];
      for (const name of ['on', 'off'] as const) {
        const stack = await startBenchStack(ctx, `enc-${name}`, {
          ...overrides,
          ...(name === 'off' || calibration ? { ENCRYPTION_AT_REST: 'off' } : {}),
        });
        stacks.push(stack);
        const api = new ApiClient(stack.baseUrl, ctx.signal);
        await signUpBenchUser(api);
        sides.push({ name, stack, api, lanes: await createConversations(api, concurrency, name) });
      }
      const [on, off] = sides as [Side, Side];
      const turnIds: Record<Side['name'], string[]> = { on: [], off: [] };
      const turnOn = (side: Side) => async (lane: number, index: number) => {
        const content = question(index);
        const answer = await side.api.call<{ turnId: string; assistantMessage: { content: string } }>(
          'POST',
          `/api/v1/conversations/${side.lanes[lane % side.lanes.length]}/messages`,
          { content },
        );
        expectEcho(answer.assistantMessage.content, content);
        turnIds[side.name].push(answer.turnId);
      };

      if (warmup > 0) {
        ctx.print(`warming up (${warmup} turns per side)…`);
        for (const side of sides) {
          const run = await runLanes({ total: warmup, lanes: concurrency, signal: ctx.signal }, turnOn(side));
          if (run.failures.length > 0) throw new Error(`warm-up ${side.name}: ${run.failures[0]?.message}`);
        }
      }
      // Both stacks share MySQL, Temporal and SeaweedFS.
      const services = findServicePids(on.stack.config.temporal.address.split(':').at(-1)!);
      const pids = {
        apiOn: on.stack.api.pid,
        workerOn: on.stack.worker.pid,
        apiOff: off.stack.api.pid,
        workerOff: off.stack.worker.pid,
        ...services,
      };
      ctx.print(`chat turns: ${turns} per side at concurrency ${concurrency}, ${blocks} alternating blocks…`);
      const [blocksOn, blocksOff] = await alternateBlocks(
        { turns, blocks, concurrency, signal: ctx.signal, pids },
        turnOn(on),
        turnOn(off),
      );
      const chat = { on: chatFigures(addUp(blocksOn), turns), off: chatFigures(addUp(blocksOff), turns) };
      const pairedChat = blocksOn.map((blockOn, i) => {
        const [rateOn, rateOff] = [chatRates(blockOn), chatRates(blocksOff[i]!)];
        return {
          turnsPerSecondPct: costPct(rateOff.turnsPerSecond, rateOn.turnsPerSecond),
          cpuPerTurnPct: growthPct(rateOff.cpuMsPerTurn, rateOn.cpuMsPerTurn),
        };
      });
      for (const side of sides) {
        const figures = chat[side.name];
        if (figures.failures > 0) errors.push(`chat ${side.name}: ${figures.failures} of ${turns} turns failed`);
      }
      errors.push(
        ...(await checkEncoding(on, turnIds.on[0], !calibration)),
        ...(await checkEncoding(off, turnIds.off[0], false)),
      );

      ctx.print(
        `ingestion: ${warmupRounds} warm-up and ${rounds} measured rounds per side of ${files} files of ${fileMb} MB, ` +
          'A B B A…',
      );
      // The other side is idle while one ingests.
      const ingestRounds = await alternateIngestRounds([on, off], {
        rounds,
        warmupRounds,
        files,
        fileMb,
        services,
        signal: ctx.signal,
        errors,
      });
      const ingestOf = (side: Side['name']) => {
        const all = ingestRounds[side];
        const bytes = all.reduce((sum, r) => sum + r.bytes, 0);
        const byProcess: Record<string, number> = {};
        for (const r of all) {
          for (const [name, seconds] of Object.entries(r.byProcess)) byProcess[name] = (byProcess[name] ?? 0) + seconds;
        }
        const perMb = (seconds: number) => round1((seconds * 1000) / (bytes / MB));
        return {
          mbPerS: round1(bytes / MB / (all.reduce((sum, r) => sum + r.ms, 0) / 1000)),
          cpuMsPerMb: perMb(all.reduce((sum, r) => sum + r.cpuS, 0)),
          cpuMsPerMbByProcess: Object.fromEntries(Object.entries(byProcess).map(([name, s]) => [name, perMb(s)])),
        };
      };
      const ingestFigures = { on: ingestOf('on'), off: ingestOf('off') };
      const quartets = quartetCosts(ingestRounds.off, ingestRounds.on);
      const pairedIngest = quartets.mbPerSPct.map((mbPerSPct, k) => ({
        mbPerSPct: round1(mbPerSPct),
        cpuPerMbPct: round1(quartets.cpuPerMbPct[k]!),
      }));

      const paired = {
        turnsPerSecondPct: pairedChat.map((pair) => pair.turnsPerSecondPct),
        cpuPerTurnPct: pairedChat.map((pair) => pair.cpuPerTurnPct),
        ingestMbPerSPct: pairedIngest.map((pair) => pair.mbPerSPct),
        ingestCpuPerMbPct: pairedIngest.map((pair) => pair.cpuPerMbPct),
      };
      const costs = mapFigures(paired, (values) => round1(median(values)));
      const intervals = mapFigures(paired, (values) => {
        const interval = medianConfidenceInterval(values);
        return interval && { low: interval.low, high: interval.high, confidence: round1(interval.confidence * 100) };
      });
      const withInterval = (name: keyof typeof paired) => {
        const interval = intervals[name];
        return interval ? `${costs[name]} % [${interval.low}, ${interval.high}]` : `${costs[name]} %`;
      };
      const totals = {
        turnsPerSecondPct: costPct(chat.off.turnsPerSecond, chat.on.turnsPerSecond),
        cpuPerTurnPct: growthPct(chat.off.cpuMsPerTurn, chat.on.cpuMsPerTurn),
        ingestMbPerSPct: costPct(ingestFigures.off.mbPerS, ingestFigures.on.mbPerS),
        ingestCpuPerMbPct: growthPct(ingestFigures.off.cpuMsPerMb, ingestFigures.on.cpuMsPerMb),
        // Only the processes that seal and open (the rest, MySQL and Temporal above all, do the same work on both
        // sides, and their CPU follows the wall time more than the work): less noisy than the whole.
        ingestCpuInSealingProcessesPct: round1(
          (ENCRYPTING_PROCESSES.reduce(
            (sum, name) =>
              sum +
              (ingestFigures.on.cpuMsPerMbByProcess[name] ?? 0) -
              (ingestFigures.off.cpuMsPerMbByProcess[name] ?? 0),
            0,
          ) /
            ingestFigures.off.cpuMsPerMb) *
            100,
        ),
      };
      const verdict = (pct: number) => (pct <= COST_TARGET_PCT ? 'met' : 'MISSED');
      ctx.print('');
      ctx.print(
        calibration
          ? 'CALIBRATION (BENCH_ENCRYPTION_CALIBRATE=1): both stacks run without encryption; any cost below is noise'
          : `Encryption at rest, on vs off (one run, alternating; budget ≤ ${COST_TARGET_PCT} % each)`,
      );
      for (const side of sides) {
        const c = chat[side.name];
        const i = ingestFigures[side.name];
        ctx.print(
          `  ${side.name.padEnd(3)} chat: ${c.turnsPerSecond} turns/s, p50 ${c.latencyMs.p50} ms, p95 ${c.latencyMs.p95} ms, ` +
            `CPU ${c.cpuMsPerTurn} ms/turn (all processes); ingest ${i.mbPerS} MB/s, CPU ${i.cpuMsPerMb} ms/MB (` +
            Object.entries(i.cpuMsPerMbByProcess)
              .map(([name, ms]) => `${name} ${ms}`)
              .join(', ') +
            ')',
        );
      }
      ctx.print(
        `  cost, median of ${pairedChat.length} paired blocks / ${pairedIngest.length} paired quartets of rounds [95 % confidence ` +
          `interval]: throughput ${withInterval('turnsPerSecondPct')} (${verdict(costs.turnsPerSecondPct)}), CPU per ` +
          `turn ${withInterval('cpuPerTurnPct')}, ingest ${withInterval('ingestMbPerSPct')} ` +
          `(${verdict(costs.ingestMbPerSPct)}), ingest CPU per MB ${withInterval('ingestCpuPerMbPct')}`,
      );
      ctx.print(
        `  cost over the totals: throughput ${totals.turnsPerSecondPct} %, CPU per turn ${totals.cpuPerTurnPct} %, ` +
          `ingest ${totals.ingestMbPerSPct} %, ingest CPU per MB ${totals.ingestCpuPerMbPct} % (of which in the API, ` +
          `the worker and the object store, which seal and open: ${totals.ingestCpuInSealingProcessesPct} % of the ` +
          'whole)',
      );
      return {
        id: 'encryption',
        data: {
          calibration,
          turns,
          concurrency,
          blocks,
          files,
          fileMb,
          rounds,
          warmupRounds,
          chat,
          ingest: ingestFigures,
          costs,
          intervals,
          totals,
          paired: { chat: pairedChat, ingest: pairedIngest },
          targetPct: COST_TARGET_PCT,
          targetsMet: {
            turnsPerSecond: costs.turnsPerSecondPct <= COST_TARGET_PCT,
            ingest: costs.ingestMbPerSPct <= COST_TARGET_PCT,
          },
        },
        errors,
      };
    } finally {
      for (const stack of stacks.reverse()) errors.push(...(await stack.close()));
    }
  },
};

function mapFigures<K extends string, T, U>(figures: Record<K, T>, map: (value: T) => U): Record<K, U> {
  return Object.fromEntries(Object.entries<T>(figures).map(([name, value]) => [name, map(value)])) as Record<K, U>;
}

/** Turns per second and CPU ms per turn (all processes) of a run or a block, unrounded. */
function chatRates(mode: ModeRun<unknown>): { turnsPerSecond: number; cpuMsPerTurn: number } {
  const done = mode.run.samples.length;
  const cpuS = Object.values(mode.cpu.cpuS).reduce((sum, seconds) => sum + seconds, 0);
  return { turnsPerSecond: done / (mode.run.wallMs / 1000), cpuMsPerTurn: (cpuS * 1000) / Math.max(1, done) };
}

function chatFigures(mode: ModeRun<unknown>, turns: number) {
  const done = mode.run.samples.length;
  const rates = chatRates(mode);
  return {
    turnsPerSecond: round1(rates.turnsPerSecond),
    latencyMs: rounded(summarize(mode.run.samples.map((sample) => sample.ms))),
    cpuMsPerTurn: round1(rates.cpuMsPerTurn),
    cpuS: mode.cpu.cpuS,
    failures: mode.run.failures.length + Math.max(0, turns - done - mode.run.failures.length),
  };
}

/** How much lower `with` is than `without`, in % of `without` (negative: encryption came out faster, i.e. noise). */
function costPct(without: number, withEncryption: number): number {
  return round1(((without - withEncryption) / without) * 100);
}

/** How much higher `with` is than `without` (a cost in CPU), in % of `without`. */
function growthPct(without: number, withEncryption: number): number {
  return round1(((withEncryption - without) / without) * 100);
}

/** The run really was what it says: the turn's first payload in Temporal's history is sealed (on) or clear (off). */
async function checkEncoding(side: Side, turnId: string | undefined, sealed: boolean): Promise<string[]> {
  if (!turnId) return [`${side.name}: no turn to check`];
  const history = await side.stack.temporal.workflow.getHandle(`turn:${turnId}`).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const encoding = Buffer.from(input?.metadata?.encoding ?? new Uint8Array()).toString();
  return (encoding === ENCRYPTED_ENCODING) === sealed
    ? []
    : [
        `${side.name}: the turn's input has encoding "${encoding}", expected ${sealed ? '' : 'not '}${ENCRYPTED_ENCODING}`,
      ];
}
