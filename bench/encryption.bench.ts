import type { BenchContext, BenchResult, BenchSection } from './bench-section';
import { envInt } from './bench-section';
import { createConversations, expectEcho, question } from './support/bench-turns';
import { addUp, alternateBlocks, type ModeRun } from './support/alternating-blocks';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { type BenchStack, startBenchStack } from './support/bench-stack';
import { CpuMeter, findServicePids } from './support/cpu';
import { ingestThroughApi, MB, syntheticMarkdown } from './support/ingest-through-api';
import { runLanes } from './support/lanes';
import { median, medianConfidenceInterval, round1, rounded, summarize } from './support/stats';

/** The budget: encryption may cost at most this share of throughput (turns/s, ingest MB/s). */
const COST_TARGET_PCT = 5;
const ENCRYPTED_ENCODING = 'binary/encrypted';

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
 * barely moves, so the verdict uses the median of the paired costs (block `i` on against block `i` off, which ran
 * next to each other), and CPU per turn or per MB beside it; the totals are printed too. Each median comes with its
 * 95 % confidence interval (the sign test's, no assumption about the noise), so a reader sees whether the run could
 * tell a 5 % cost from none at all. BENCH_ENCRYPTION_CALIBRATE=1 runs both stacks without encryption: what it reports
 * as a cost is the bench's own bias. The sample is sized so the intervals come out around ±4 % on two cores (24 blocks
 * of 80 turns gave ±6 %; rounds of 4 × 2 MB last under 2 s, so the 100 ms polling and one flush of MySQL's full-text
 * cache swung a round by tens of %). Settings: BENCH_ENCRYPTION_TURNS (3840), BENCH_CONCURRENCY (8), BENCH_BLOCKS (48),
 * BENCH_WARMUP (20), BENCH_ENCRYPTION_FILES per round (4), BENCH_ENCRYPTION_FILE_MB (8),
 * BENCH_ENCRYPTION_INGEST_ROUNDS (12 per side). About 12 minutes.
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
    const fileMb = envInt(ctx, 'BENCH_ENCRYPTION_FILE_MB', 8, 1, 25);
    const rounds = envInt(ctx, 'BENCH_ENCRYPTION_INGEST_ROUNDS', 12, 1, 40);
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

      // The first upload and ingestion of each stack compile their code paths (in the bench too): one file per side
      // first, unmeasured, so that cost does not land in whichever side the first round starts with.
      for (const side of sides) {
        await ingestThroughApi(side.stack.baseUrl, [syntheticMarkdown(fileMb * MB, 9_999)], ctx.signal, errors);
      }
      ctx.print(`ingestion: ${rounds} rounds per side of ${files} files of ${fileMb} MB, alternating…`);
      // The other side is idle while one ingests.
      const ingestPids = (side: Side) => ({ api: side.stack.api.pid, worker: side.stack.worker.pid, ...services });
      const ingestRounds: Record<
        Side['name'],
        { bytes: number; ms: number; cpuS: number; byProcess: Record<string, number> }[]
      > = {
        on: [],
        off: [],
      };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [on, off] : [off, on];
        for (const side of order) {
          const texts = Array.from({ length: files }, (_, i) => syntheticMarkdown(fileMb * MB, round * 100 + i + 1));
          const cpu = new CpuMeter(ingestPids(side)).start();
          const run = await ingestThroughApi(side.stack.baseUrl, texts, ctx.signal, errors);
          const byProcess = cpu.stop().cpuS;
          const cpuS = Object.values(byProcess).reduce((sum, seconds) => sum + seconds, 0);
          const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
          ingestRounds[side.name].push({ bytes, ms: run.wallMs, cpuS, byProcess });
        }
      }
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
      const pairedIngest = ingestRounds.on.map((roundOn, i) => {
        const roundOff = ingestRounds.off[i]!;
        return {
          mbPerSPct: costPct(roundOff.bytes / roundOff.ms, roundOn.bytes / roundOn.ms),
          cpuPerMbPct: growthPct(roundOff.cpuS / roundOff.bytes, roundOn.cpuS / roundOn.bytes),
        };
      });

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
        `  cost, median of ${pairedChat.length} paired blocks / ${pairedIngest.length} paired rounds [95 % confidence ` +
          `interval]: throughput ${withInterval('turnsPerSecondPct')} (${verdict(costs.turnsPerSecondPct)}), CPU per ` +
          `turn ${withInterval('cpuPerTurnPct')}, ingest ${withInterval('ingestMbPerSPct')} ` +
          `(${verdict(costs.ingestMbPerSPct)}), ingest CPU per MB ${withInterval('ingestCpuPerMbPct')}`,
      );
      ctx.print(
        `  cost over the totals: throughput ${totals.turnsPerSecondPct} %, CPU per turn ${totals.cpuPerTurnPct} %, ` +
          `ingest ${totals.ingestMbPerSPct} %, ingest CPU per MB ${totals.ingestCpuPerMbPct} %`,
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
