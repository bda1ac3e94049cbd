import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { envInt, type BenchContext, type BenchResult, type BenchSection } from './bench-section';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { type BenchStack, sleep, startBenchStack } from './support/bench-stack';
import { CpuMeter, type CpuReport, findServicePids } from './support/cpu';
import { runLanes } from './support/lanes';
import { type LatencySummary, round1, rounded, summarize } from './support/stats';

/** The issue's targets, on a 2-core machine with the fake LLM answering at once. */
export const REPLAY_TARGETS = {
  turnsPerSecond: 30,
  /** Live chat p95 while the replay runs, at most this much above the p95 without it. */
  liveP95RisePct: 25,
} as const;

interface ReplayBenchOptions {
  conversations: number;
  /** A replay of this many conversations with no live chat, first: what the replay does on a quiet worker. */
  aloneConversations: number;
  turnsPerConversation: number;
  concurrency: number;
  liveLanes: number;
  baselineTurns: number;
}

interface LivePhase {
  latencyMs: LatencySummary;
  /** Every turn's latency (ms), for the combined baseline; left out of the JSON. */
  samples: number[];
  turns: number;
  failures: number;
  turnsPerSecond: number;
  cpu: CpuReport;
}

interface ReplayView {
  id: string;
  status: string;
  progress: { conversations: { done: number; failed: number; total: number }; turns: { done: number; failed: number } };
}

export const replaySection: BenchSection = {
  id: 'replay',
  title: 'Batch replay: replayed turns per second, and live chat latency with and without a replay running',
  run: runReplayBench,
};

/**
 * N conversations × T user turns (seeded straight into MySQL as answered conversations) replayed through the API and
 * the replay workflows against one arm, pinned, with the fake LLM at 0 ms, while 4 lanes of live chat turns run
 * through the API. Live chat latency is measured before the replay (baseline), while it runs, and after it.
 */
export async function runReplayBench(ctx: BenchContext): Promise<BenchResult> {
  const options: ReplayBenchOptions = {
    conversations: envInt(ctx, 'BENCH_REPLAY_CONVERSATIONS', 1000),
    aloneConversations: envInt(ctx, 'BENCH_REPLAY_ALONE_CONVERSATIONS', 300, 0),
    turnsPerConversation: envInt(ctx, 'BENCH_REPLAY_TURNS', 5, 1, 100),
    concurrency: envInt(ctx, 'BENCH_REPLAY_CONCURRENCY', 8, 1, 64),
    liveLanes: envInt(ctx, 'BENCH_LIVE_LANES', 4, 1, 64),
    baselineTurns: envInt(ctx, 'BENCH_LIVE_BASELINE_TURNS', 200),
  };
  const startedAt = new Date();
  ctx.print(
    `Replay: ${options.conversations} conversations × ${options.turnsPerConversation} user turns, one arm, pinned, ` +
      `concurrency ${options.concurrency}; live chat: ${options.liveLanes} lanes; fake LLM at 0 ms.`,
  );
  const stack = await startBenchStack(ctx, 'replay');
  const errors: string[] = [];
  try {
    const data = await measure(ctx, stack, options, errors);
    return { id: replaySection.id, data: { startedAt: startedAt.toISOString(), ...data }, errors };
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

async function measure(
  ctx: BenchContext,
  stack: BenchStack,
  options: ReplayBenchOptions,
  errors: string[],
): Promise<Record<string, unknown>> {
  const api = new ApiClient(stack.baseUrl, ctx.signal);
  const userId = await signUpBenchUser(api); // the first account: an admin
  const temporalAddress = stack.config.temporal.address;
  const pids: Record<string, number> = {
    api: stack.api.pid,
    worker: stack.worker.pid,
    ...findServicePids(temporalAddress.slice(temporalAddress.lastIndexOf(':') + 1)),
  };

  ctx.print(`seeding ${options.conversations + options.aloneConversations} answered conversations into MySQL…`);
  const seedStarted = performance.now();
  const conversations = await seedConversations(stack.db, userId, options.conversations, options);
  const quiet = await seedConversations(stack.db, userId, options.aloneConversations, options);
  const seedMs = Math.round(performance.now() - seedStarted);
  /** Starts a replay of these conversations (one arm, pinned) and waits for its end. */
  const replayOf = async (ids: string[], onEnd: () => void = () => undefined) => {
    const created = await api.call<ReplayView>(
      'POST',
      '/api/v1/replays',
      {
        selection: { conversationIds: ids },
        arms: [{ model: 'fake-model' }],
        mode: 'pinned',
        limits: { concurrency: options.concurrency, maxConversations: ids.length },
      },
      202,
    );
    let replay = created;
    let lastPrint = performance.now();
    while (!['completed', 'failed', 'cancelled'].includes(replay.status)) {
      await sleep(500);
      replay = await api.call<ReplayView>('GET', `/api/v1/replays/${created.id}`);
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        const c = replay.progress.conversations;
        ctx.print(`  replay: ${c.done + c.failed}/${c.total} conversations, ${replay.progress.turns.done} turns`);
      }
    }
    onEnd();
    const timing = await replayTiming(stack.db, created.id);
    const expected = ids.length * options.turnsPerConversation;
    if (replay.status !== 'completed') errors.push(`replay ${created.id} ended ${replay.status}`);
    if (timing.results !== expected) errors.push(`replay stored ${timing.results} answers, expected ${expected}`);
    if (timing.failed > 0) errors.push(`${timing.failed} replayed answers failed`);
    return {
      id: created.id,
      status: replay.status,
      ...timing,
      turnsPerSecond: round1(timing.results / (timing.workflowMs / 1000)),
    };
  };

  const lanes: string[] = [];
  for (let lane = 0; lane < options.liveLanes; lane++) {
    lanes.push((await api.call<{ id: string }>('POST', '/api/v1/conversations', { title: `live ${lane}` }, 201)).id);
  }
  let liveIndex = 0;
  const liveTurn = async (lane: number): Promise<void> => {
    const content = `Live turn ${liveIndex++}: what does a durable workflow guarantee?`;
    const answer = await api.call<{ assistantMessage: { content: string } }>(
      'POST',
      `/api/v1/conversations/${lanes[lane]!}/messages`,
      { content },
    );
    if (answer.assistantMessage.content !== `Echo: ${content}`) throw new Error('unexpected live answer');
  };

  ctx.print('warming up live chat…');
  await runLanes({ total: 20, lanes: options.liveLanes, signal: ctx.signal }, liveTurn);

  ctx.print(`live chat without a replay (${options.baselineTurns} turns)…`);
  const before = await livePhase(ctx, options, pids, liveTurn, () => false, options.baselineTurns);

  let alone: (Awaited<ReturnType<typeof replayOf>> & { cpu: CpuReport }) | undefined;
  if (quiet.length > 0) {
    ctx.print(`a replay of ${quiet.length} conversations with no live chat…`);
    const quietCpu = new CpuMeter(pids).start();
    const run = await replayOf(quiet);
    alone = { ...run, cpu: quietCpu.stop() };
  }

  ctx.print('live chat while the replay runs…');
  let replayDone = false;
  const replayStarted = performance.now();
  const cpu = new CpuMeter(pids).start();
  const during = livePhase(ctx, options, pids, liveTurn, () => replayDone);
  const timing = await replayOf(conversations, () => (replayDone = true));
  const replayWallMs = performance.now() - replayStarted;
  const replayCpu = cpu.stop();
  const duringReplay = await during;

  ctx.print(`live chat after the replay (${options.baselineTurns} turns)…`);
  const after = await livePhase(ctx, options, pids, liveTurn, () => false, options.baselineTurns);

  for (const [name, phase] of [
    ['before', before],
    ['during', duringReplay],
    ['after', after],
  ] as const) {
    if (phase.failures > 0) errors.push(`live chat ${name}: ${phase.failures} turns failed`);
  }

  const turnsPerSecond = timing.turnsPerSecond;
  // Without a replay: the turns before it and after it together, so a machine that got busier or quieter meanwhile
  // (it is shared) moves the baseline less than either phase alone would.
  const without = rounded(summarize([...before.samples, ...after.samples]));
  const rise = round1(((duringReplay.latencyMs.p95 - without.p95) / without.p95) * 100);
  const targets = [
    {
      name: 'replayed turns per second',
      target: `≥ ${REPLAY_TARGETS.turnsPerSecond}`,
      actual: turnsPerSecond,
      pass: turnsPerSecond >= REPLAY_TARGETS.turnsPerSecond,
    },
    {
      name: 'live chat p95 rise while replaying',
      target: `≤ ${REPLAY_TARGETS.liveP95RisePct} %`,
      actual: rise,
      pass: rise <= REPLAY_TARGETS.liveP95RisePct,
    },
  ];

  ctx.print('');
  ctx.print(
    `replay: ${timing.results} answers in ${round1(timing.workflowMs / 1000)} s (workflow start → end) = ` +
      `${turnsPerSecond} turns/s; ${round1(replayWallMs / 1000)} s from the request to seeing it ended`,
  );
  if (alone) {
    ctx.print(
      `replay with no live chat: ${alone.results} answers in ${round1(alone.workflowMs / 1000)} s = ` +
        `${alone.turnsPerSecond} turns/s; CPU (s): ${Object.entries(alone.cpu.cpuS)
          .map(([name, s]) => `${name} ${s}`)
          .join(', ')}; machine ${alone.cpu.machineBusyPct} % busy`,
    );
  }
  ctx.print(
    `CPU during the replay with live chat (s): ${Object.entries(replayCpu.cpuS)
      .map(([name, s]) => `${name} ${s}`)
      .join(', ')}; machine ${replayCpu.machineBusyPct} % busy`,
  );
  ctx.print(`live chat without a replay (before and after): p50 ${without.p50} ms, p95 ${without.p95} ms`);
  for (const [name, phase] of [
    ['before the replay', before],
    ['during the replay', duringReplay],
    ['after the replay', after],
  ] as const) {
    ctx.print(
      `live chat ${name}: p50 ${phase.latencyMs.p50} ms, p95 ${phase.latencyMs.p95} ms, ` +
        `${phase.turnsPerSecond} turns/s (${phase.turns} turns)`,
    );
  }
  for (const t of targets) ctx.print(`target ${t.name}: ${t.actual} (${t.target}) ${t.pass ? 'met' : 'MISSED'}`);

  return {
    parameters: { ...options, fakeLlmDelayMs: 0, seedMs },
    machine: { cores: replayCpu.cores, node: process.version },
    replayAlone: alone
      ? {
          id: alone.id,
          answers: alone.results,
          workflowMs: Math.round(alone.workflowMs),
          turnsPerSecond: alone.turnsPerSecond,
          cpu: alone.cpu,
          cpuMsPerTurn: Object.fromEntries(
            Object.entries(alone.cpu.cpuS).map(([name, s]) => [name, round1((s * 1000) / Math.max(1, alone.results))]),
          ),
        }
      : null,
    replay: {
      id: timing.id,
      status: timing.status,
      answers: timing.results,
      failed: timing.failed,
      workflowMs: Math.round(timing.workflowMs),
      firstToLastResultMs: Math.round(timing.resultsMs),
      requestToEndSeenMs: Math.round(replayWallMs),
      turnsPerSecond,
      cpu: replayCpu,
      cpuMsPerTurn: Object.fromEntries(
        Object.entries(replayCpu.cpuS).map(([name, s]) => [name, round1((s * 1000) / Math.max(1, timing.results))]),
      ),
    },
    liveChat: {
      withoutReplay: without,
      before: { ...before, samples: undefined },
      during: { ...duringReplay, samples: undefined },
      after: { ...after, samples: undefined },
      p95RisePct: rise,
    },
    targets,
    serviceLogLines: { api: stack.api.logCounts, worker: stack.worker.logCounts },
  };
}

/**
 * Live chat turns over `lanes`, each lane one turn at a time: `total` turns, or (without a total) until `stop()`; only
 * turns that started before `stop()` turned true are counted.
 */
async function livePhase(
  ctx: BenchContext,
  options: ReplayBenchOptions,
  pids: Record<string, number>,
  turn: (lane: number) => Promise<void>,
  stop: () => boolean,
  total?: number,
): Promise<LivePhase> {
  const cpu = new CpuMeter(pids).start();
  const samples: number[] = [];
  let failures = 0;
  const started = performance.now();
  if (total !== undefined) {
    const run = await runLanes({ total, lanes: options.liveLanes, signal: ctx.signal }, (lane) => turn(lane));
    samples.push(...run.samples.map((sample) => sample.ms));
    failures = run.failures.length;
  } else {
    await Promise.all(
      Array.from({ length: options.liveLanes }, async (_, lane) => {
        while (!stop() && !ctx.signal.aborted) {
          const at = performance.now();
          try {
            await turn(lane);
            if (!stop()) samples.push(performance.now() - at);
          } catch {
            failures += 1;
          }
        }
      }),
    );
  }
  const wallMs = performance.now() - started;
  return {
    latencyMs: rounded(summarize(samples)),
    samples,
    turns: samples.length,
    failures,
    turnsPerSecond: round1(samples.length / (wallMs / 1000)),
    cpu: cpu.stop(),
  };
}

/**
 * Answered conversations of `turnsPerConversation` user turns each, owned by the admin, written with multi-row INSERTs
 * (as an import would leave them: messages on one branch, the current message the last answer). Returns their ids.
 */
async function seedConversations(
  db: DataSource,
  ownerId: string,
  count: number,
  options: ReplayBenchOptions,
): Promise<string[]> {
  const BATCH = 100;
  const ids: string[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const conversations: unknown[][] = [];
    const messages: unknown[][] = [];
    for (let n = start; n < Math.min(count, start + BATCH); n++) {
      const id = randomUUID();
      ids.push(id);
      let parent: string | null = null;
      for (let turn = 0; turn < options.turnsPerConversation; turn++) {
        const question = `Seeded question ${turn} of conversation ${n}: how do durable workflows survive a crash?`;
        const userId = randomUUID();
        const answerId = randomUUID();
        messages.push([userId, id, parent, 'user', question]);
        messages.push([answerId, id, userId, 'assistant', `Echo: ${question}`]);
        parent = answerId;
      }
      conversations.push([id, ownerId, `seeded ${n}`, parent]);
    }
    await db.query(
      `INSERT INTO conversations (id, owner_id, title, current_message_id) VALUES ${conversations.map(() => '(?, ?, ?, ?)').join(', ')}`,
      conversations.flat(),
    );
    await db.query(
      `INSERT INTO messages (id, conversation_id, parent_id, role, content) VALUES ${messages.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      messages.flat(),
    );
  }
  return ids;
}

/** The replay's own timing, from its rows: workflow start to end, and first to last stored answer. */
async function replayTiming(db: DataSource, replayId: string) {
  const [replay] = await db.query<{ started_at: Date; completed_at: Date }[]>(
    'SELECT started_at, completed_at FROM replays WHERE id = ?',
    [replayId],
  );
  const [results] = await db.query<{ n: string; failed: string | null; first: Date; last: Date }[]>(
    `SELECT COUNT(*) AS n, SUM(status = 'failed') AS failed, MIN(created_at) AS first, MAX(created_at) AS last
       FROM replay_results WHERE replay_id = ?`,
    [replayId],
  );
  return {
    results: Number(results?.n ?? 0),
    failed: Number(results?.failed ?? 0),
    workflowMs: new Date(replay!.completed_at).getTime() - new Date(replay!.started_at).getTime(),
    resultsMs: new Date(results!.last).getTime() - new Date(results!.first).getTime(),
  };
}
