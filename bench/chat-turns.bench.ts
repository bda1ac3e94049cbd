import { envChoice, envInt, type BenchContext, type BenchResult, type BenchSection } from './bench-section';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { createConversations, expectEcho, question } from './support/bench-turns';
import {
  CHAT_TURN_TARGETS,
  type ChatTurnOptions,
  num,
  pad,
  printReport,
  type TargetResult,
} from './support/chat-turn-report';
import { type BenchStack, sleep, startBenchStack } from './support/bench-stack';
import { CpuMeter, findServicePids } from './support/cpu';
import { InProcessPipeline, type InProcessTimings } from './support/in-process-turn';
import { alternate } from './support/alternating-blocks';
import { expectNoFailures, type LaneRun, runLanes } from './support/lanes';
import { type ModeResult, modeResult } from './support/mode-result';
import { type LatencySummary, round1, rounded, summarize } from './support/stats';
import { type TemporalVariant, temporalVariant, type VariantTurn } from './support/temporal-variants';
import { type ClientTiming, type SegmentSummary, summarizeSegments } from './support/turn-history';

interface ApiTurnAnswer {
  turnId: string;
  assistantMessage: { content: string };
}

export const chatTurnsSection: BenchSection = {
  id: 'chat-turns',
  title: 'Chat turns: API + Temporal against the same pipeline in-process',
  run: runChatTurnBench,
};

/**
 * N chat turns through the API (start + result on a real Temporal, the worker as a separate process) at
 * concurrency C, against the same pipeline called in this process without Temporal and without HTTP, in one run.
 */
export async function runChatTurnBench(ctx: BenchContext): Promise<BenchResult> {
  const options = readOptions(ctx);
  const startedAt = new Date();
  ctx.print(
    `Chat turns: ${options.turns} turns at concurrency ${options.concurrency} per mode, ${options.warmup} warm-up ` +
      `turns per mode, fake LLM at 0 ms. Temporal at ${ctx.env.TEMPORAL_ADDRESS || '127.0.0.1:7233'}.`,
  );
  const stack = await startBenchStack(ctx, 'bench');
  const errors: string[] = [];
  try {
    const data = await measure(ctx, stack, options, errors);
    return { id: chatTurnsSection.id, data: { startedAt: startedAt.toISOString(), ...data }, errors };
  } finally {
    const problems = await stack.close();
    for (const problem of problems) errors.push(`cleanup: ${problem}`);
    const logs = { api: stack.api.logCounts, worker: stack.worker.logCounts };
    if (logs.api.error + logs.worker.error > 0) {
      ctx.print(`note: error log lines: API ${logs.api.error}, worker ${logs.worker.error}. Last worker lines:`);
      ctx.print(stack.worker.tail(10));
    }
  }
}

function readOptions(ctx: BenchContext): ChatTurnOptions {
  return {
    turns: envInt(ctx, 'BENCH_TURNS', 400),
    concurrency: envInt(ctx, 'BENCH_CONCURRENCY', CHAT_TURN_TARGETS.concurrency, 1, 256),
    warmup: envInt(ctx, 'BENCH_WARMUP', 20, 0),
    blocks: envInt(ctx, 'BENCH_BLOCKS', 4, 1, 100),
    breakdownSample: envInt(ctx, 'BENCH_BREAKDOWN_SAMPLE', 40, 0, 10_000),
    variants: envChoice(ctx, 'BENCH_VARIANTS', ['auto', 'on', 'off'] as const, 'auto'),
  };
}

async function measure(
  ctx: BenchContext,
  stack: BenchStack,
  options: ChatTurnOptions,
  errors: string[],
): Promise<Record<string, unknown>> {
  const api = new ApiClient(stack.baseUrl, ctx.signal);
  const userId = await signUpBenchUser(api);
  const apiLanes = await createConversations(api, options.concurrency, 'api');
  const localLanes = await createConversations(api, options.concurrency, 'in-process');
  const pipeline = new InProcessPipeline(stack.db, stack.config, stack.redis);
  const temporalAddress = stack.config.temporal.address;
  const pids: Record<string, number> = {
    api: stack.api.pid,
    worker: stack.worker.pid,
    ...findServicePids(temporalAddress.slice(temporalAddress.lastIndexOf(':') + 1)),
  };

  const clientTimings = new Map<number, ClientTiming>();
  const viaApi = async (lane: number, index: number): Promise<string> => {
    const content = question(index);
    const sentAtMs = Date.now();
    const answer = await api.call<ApiTurnAnswer>('POST', `/api/v1/conversations/${at(apiLanes, lane)}/messages`, {
      content,
    });
    const receivedAtMs = Date.now();
    expectEcho(answer.assistantMessage.content, content);
    clientTimings.set(index, { workflowId: `turn:${answer.turnId}`, sentAtMs, receivedAtMs });
    return answer.turnId;
  };
  const inProcess = async (lane: number, index: number): Promise<InProcessTimings> => {
    const content = question(index);
    const turn = await pipeline.run(userId, at(localLanes, lane), content);
    expectEcho(turn.answer.content, content);
    return turn.timings;
  };

  if (options.warmup > 0) {
    ctx.print(`warming up (${options.warmup} turns per mode)…`);
    expectNoFailures(await runLanes(lanesOf(ctx, options, options.warmup), viaApi), 'API warm-up');
    expectNoFailures(await runLanes(lanesOf(ctx, options, options.warmup), inProcess), 'in-process warm-up');
    clientTimings.clear();
  }

  ctx.print(
    `measuring in-process (no HTTP, no Temporal) and through the API (HTTP → start + result → worker), ` +
      `in ${options.blocks} alternating blocks…`,
  );
  const [localRun, apiRun] = await alternate({ ...options, signal: ctx.signal, pids }, inProcess, viaApi);
  const local = localRun.run;
  const remote = apiRun.run;
  const localResult = modeResult(local, localRun.cpu, options.turns);
  const apiResult = modeResult(remote, apiRun.cpu, options.turns);
  const rss = { api: stack.rss.api.stop(), worker: stack.rss.worker.stop() };

  for (const [name, result] of [
    ['in-process', localResult],
    ['API', apiResult],
  ] as const) {
    if (result.failures > 0) {
      const stopped = result.notRun > 0 ? ` (run stopped, ${result.notRun} not sent)` : '';
      errors.push(
        `${name}: ${result.failures} of ${result.turns} turns failed${stopped}, e.g. ${result.firstFailures.join(' | ')}`,
      );
    }
  }
  errors.push(...(await checkDatabase(stack)));

  const overhead = {
    p50: round1(apiResult.latencyMs.p50 - localResult.latencyMs.p50),
    p95: round1(apiResult.latencyMs.p95 - localResult.latencyMs.p95),
    p99: round1(apiResult.latencyMs.p99 - localResult.latencyMs.p99),
    mean: round1(apiResult.latencyMs.mean - localResult.latencyMs.mean),
  };
  const targets: TargetResult[] = [
    target('overhead p50', `≤ ${CHAT_TURN_TARGETS.overheadP50Ms} ms`, overhead.p50, 'ms', (x) => x <= 50),
    target('overhead p95', `≤ ${CHAT_TURN_TARGETS.overheadP95Ms} ms`, overhead.p95, 'ms', (x) => x <= 150),
    target(
      'API throughput',
      `≥ ${CHAT_TURN_TARGETS.turnsPerSecond} turns/s`,
      apiResult.turnsPerSecond,
      'turns/s',
      (x) => x >= CHAT_TURN_TARGETS.turnsPerSecond,
    ),
  ];

  const phases = phaseSummary(local.samples.map((sample) => sample.value));
  const breakdown = await explainApiTurns(ctx, stack, remote, clientTimings, options.breakdownSample);

  printReport(ctx, options, { local: localResult, api: apiResult }, overhead, targets, rss, phases, breakdown);
  const serviceLogs = { api: stack.api.logCounts, worker: stack.worker.logCounts };
  ctx.print('');
  ctx.print(
    `Service log lines (warn / error) so far: API ${serviceLogs.api.warn} / ${serviceLogs.api.error}, ` +
      `worker ${serviceLogs.worker.warn} / ${serviceLogs.worker.error}`,
  );

  const missed = targets.some((t) => !t.pass);
  let variants: Record<string, unknown> | undefined;
  if (options.variants === 'on' || (options.variants === 'auto' && missed)) {
    variants = await runVariants(ctx, stack, api, userId, options, pids, localResult);
  }

  return {
    parameters: {
      turns: options.turns,
      concurrency: options.concurrency,
      warmupTurnsPerMode: options.warmup,
      fakeLlmDelayMs: 0,
      temporalAddress: stack.config.temporal.address,
      order: `${options.blocks} alternating blocks: in-process, API, API, in-process, …`,
      overheadDefinition: 'API percentile minus in-process percentile',
      inProcessLatency:
        'chat rate limit + turn rows + prepareTurn (loadContext ∥ retrieveFromFiles) + generate (events to Redis) + ' +
        'persistAssistantMessage: the activities the workflow runs, in its order, built as the worker builds them',
    },
    machine: { cores: localResult.cpu.cores, node: process.version },
    modes: { inProcess: { ...localResult, phasesMs: phases }, api: apiResult },
    overheadMs: overhead,
    targets: { atConcurrency: CHAT_TURN_TARGETS.concurrency, results: targets },
    rssMb: rss,
    apiTimeBreakdownMs: breakdown,
    serviceLogLines: serviceLogs,
    ...(variants ? { variants } : {}),
  };
}

function at(lanes: string[], lane: number): string {
  const id = lanes[lane];
  if (id === undefined) throw new Error(`no conversation for lane ${lane}`);
  return id;
}

function lanesOf(ctx: BenchContext, options: ChatTurnOptions, total: number) {
  return { total, lanes: Math.min(options.concurrency, total), signal: ctx.signal };
}

function target(name: string, goal: string, actual: number, unit: string, ok: (x: number) => boolean): TargetResult {
  return { name, target: goal, actual, unit, pass: Number.isFinite(actual) && ok(actual) };
}

function phaseSummary(timings: InProcessTimings[]): Record<string, LatencySummary> {
  const phases: Record<string, LatencySummary> = {};
  for (const key of ['createTurn', 'prepareTurn', 'generate', 'persist'] as const) {
    phases[key] = rounded(summarize(timings.map((timing) => timing[key])));
  }
  return phases;
}

/** Every turn of the bench database completed and has its audit row (waited for: the worker may write it late). */
async function checkDatabase(stack: BenchStack): Promise<string[]> {
  const problems: string[] = [];
  const rows = await stack.db.query<{ status: string; n: string | number }[]>(
    'SELECT status, COUNT(*) AS n FROM turns GROUP BY status',
  );
  const notCompleted = rows.filter((row) => row.status !== 'completed');
  if (notCompleted.length > 0) {
    problems.push(`turns not completed: ${notCompleted.map((row) => `${row.status} ${row.n}`).join(', ')}`);
  }
  const completed = Number(rows.find((row) => row.status === 'completed')?.n ?? 0);
  let audited = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const [row] = await stack.db.query<{ n: string | number }[]>(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'turn.completed'",
    );
    audited = Number(row?.n ?? 0);
    if (audited >= completed) break;
    await sleep(200);
  }
  if (audited !== completed) problems.push(`${completed} completed turns but ${audited} turn.completed audit rows`);
  return problems;
}

/** Splits sampled API turns into segments from their workflow histories; means and p50s per segment. */
async function explainApiTurns(
  ctx: BenchContext,
  stack: BenchStack,
  run: LaneRun<string>,
  timings: Map<number, ClientTiming>,
  sample: number,
): Promise<SegmentSummary | undefined> {
  if (sample === 0 || run.samples.length === 0) return undefined;
  const step = Math.max(1, Math.floor(run.samples.length / sample));
  const picked = [...run.samples]
    .sort((a, b) => a.index - b.index)
    .filter((_, i) => i % step === 0)
    .slice(0, sample);
  const sampled = picked.flatMap((turn) => {
    const timing = timings.get(turn.index);
    return timing ? [timing] : [];
  });
  return summarizeSegments(stack.temporal, sampled, (line) => ctx.print(line));
}

/**
 * Diagnosis when a target is missed: the same turns from this process straight to Temporal with the API's own
 * TurnRunner (no HTTP, no Nest, no auth), once with update-with-start (as the API did) and once with start + result
 * (as it does).
 */
async function runVariants(
  ctx: BenchContext,
  stack: BenchStack,
  api: ApiClient,
  userId: string,
  options: ChatTurnOptions,
  pids: Record<string, number>,
  local: ModeResult,
): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  ctx.print('');
  ctx.print('Diagnosis: the same turns from this process straight to Temporal (API TurnRunner, no HTTP)');
  ctx.print(
    `${pad('variant', 34)}${num('p50')}${num('p95')}${num('p99')}${num('mean')}${num('turns/s')}` +
      `${num('rows p50')}${num('Δp50 vs in-proc', 17)}`,
  );
  for (const variant of ['update-with-start', 'start-then-result'] as TemporalVariant[]) {
    const lanes = await createConversations(api, options.concurrency, variant);
    const turn = temporalVariant(variant, stack);
    const run = async (lane: number, index: number): Promise<VariantTurn> =>
      turn(userId, at(lanes, lane), question(index));
    await runLanes(lanesOf(ctx, options, Math.max(options.warmup, 1)), run);
    const cpu = new CpuMeter(pids).start();
    const measured = await runLanes(lanesOf(ctx, options, options.turns), run);
    const result = modeResult(measured, cpu.stop(), options.turns);
    const rows = rounded(summarize(measured.samples.map((sample) => sample.value.createTurnMs)));
    const temporal = rounded(summarize(measured.samples.map((sample) => sample.value.temporalMs)));
    results[variant] = { ...result, createTurnMs: rows, temporalCallMs: temporal };
    const l = result.latencyMs;
    ctx.print(
      `${pad(variant, 34)}${num(l.p50)}${num(l.p95)}${num(l.p99)}${num(l.mean)}${num(result.turnsPerSecond)}` +
        `${num(rows.p50)}${num(round1(l.p50 - local.latencyMs.p50), 17)}`,
    );
    const used = Object.entries(result.cpuMsPerTurn)
      .map(([proc, ms]) => `${proc} ${ms}`)
      .join(', ');
    ctx.print(`  CPU ms per turn: ${used}; machine ${result.cpu.machineBusyPct}% busy`);
  }
  ctx.print('(start-then-result waits for the workflow, as the API does; update-with-start for its update, as it did)');
  return results;
}
