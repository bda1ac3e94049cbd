import { deploymentTools } from '#libs/tools/deployment-tools';
import type { ChatMessage, LlmProvider, LlmToolSpec } from '#libs/llm/llm-provider';
import type { ToolRegistry } from '#libs/tools/tool-registry';
import { createChatLlm } from '../apps/worker/src/chat-sources';
import { type BenchContext, type BenchResult, type BenchSection, envInt } from './bench-section';
import { alternate } from './support/alternating-blocks';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { benchLogger } from './support/bench-logger';
import { type BenchStack, startBenchStack } from './support/bench-stack';
import { createConversations, expectEcho } from './support/bench-turns';
import { num, pad } from './support/chat-turn-report';
import { findServicePids } from './support/cpu';
import { expectNoFailures, runLanes } from './support/lanes';
import { type ModeResult, modeResult } from './support/mode-result';
import { round1 } from './support/stats';
import { type ClientTiming, type SegmentSummary, summarizeSegments } from './support/turn-history';

/** The target: what one tool step adds to a turn beyond the step's own work, p50, at concurrency 1. */
const STEP_OVERHEAD_TARGET_P50_MS = 20;
const TOOL = 'calculator';
/** What the fake model answers after the two rounds (test/fakes/fake-llm.server.ts: `Tools said: …`). */
const TOOL_ANSWER = 'Tools said: 1+1 = 2 | 2+2 = 4';
/** The in-process loop gives up after this many model calls (the fake makes 3). */
const MAX_MODEL_CALLS = 5;

/**
 * Two sequential tool steps: the fake model calls the calculator on its first call, again on its second (after the
 * first result), and answers on its third.
 */
function toolQuestion(index: number): string {
  return (
    `Bench turn ${index}: <<tool ${TOOL} {"expression":"1+1"}>> then <<tool@1 ${TOOL} {"expression":"2+2"}>>, ` +
    'what do they make?'
  );
}

interface ToolOptions {
  turns: number;
  warmup: number;
  blocks: number;
  breakdownSample: number;
}

interface Spread {
  p50: number;
  p95: number;
  mean: number;
}

export const toolsSection: BenchSection = {
  id: 'tools',
  title: 'Tool steps: a durable turn with two tool calls against the same turn without tools, and a step in-process',
  run: runToolBench,
};

/**
 * What one tool step costs a durable turn, at concurrency 1 with the fake LLM answering at once. Through the API, in
 * alternating blocks: A, turns whose model calls the calculator twice in a row (3 `generate` activities and 2 local
 * `runTool` activities); B, the same messages without tools (1 `generate`). (A − B) / 2 is what a step adds to a durable turn.
 * In this process, alternating too: the same two steps without Temporal — the same provider (behind its Redis
 * breaker, as the worker builds it) asked 3 times with the tool offered and the rounds in the prompt, the arguments
 * parsed and the calculator's own `run` called twice — against 1 plain model call; half the difference is a step's
 * own work. The overhead per step is the durable step minus the in-process one, against a 20 ms p50 target.
 * Settings: BENCH_TOOL_TURNS (60 per mode), BENCH_WARMUP (10), BENCH_BLOCKS (4), BENCH_BREAKDOWN_SAMPLE (10).
 */
async function runToolBench(ctx: BenchContext): Promise<BenchResult> {
  const options: ToolOptions = {
    turns: envInt(ctx, 'BENCH_TOOL_TURNS', 60),
    warmup: envInt(ctx, 'BENCH_WARMUP', 10, 0),
    blocks: envInt(ctx, 'BENCH_BLOCKS', 4, 1, 100),
    breakdownSample: envInt(ctx, 'BENCH_BREAKDOWN_SAMPLE', 10, 0, 10_000),
  };
  ctx.print(
    `Tool steps: ${options.turns} turns per mode at concurrency 1, ${options.warmup} warm-up turns per mode, ` +
      `${options.blocks} alternating blocks, fake LLM at 0 ms. Temporal at ${ctx.env.TEMPORAL_ADDRESS || '127.0.0.1:7233'}.`,
  );
  const startedAt = new Date();
  const stack = await startBenchStack(ctx, 'tools');
  const errors: string[] = [];
  try {
    const data = await measure(ctx, stack, options, errors);
    return { id: toolsSection.id, data: { startedAt: startedAt.toISOString(), ...data }, errors };
  } finally {
    errors.push(...(await stack.close()).map((problem) => `cleanup: ${problem}`));
  }
}

async function measure(
  ctx: BenchContext,
  stack: BenchStack,
  options: ToolOptions,
  errors: string[],
): Promise<Record<string, unknown>> {
  const api = new ApiClient(stack.baseUrl, ctx.signal);
  await signUpBenchUser(api);
  const [withTools] = await createConversations(api, 1, 'tools');
  const [withoutTools] = await createConversations(api, 1, 'no tools');
  const port = stack.config.temporal.address.split(':').at(-1) ?? '7233';
  const pids = { api: stack.api.pid, worker: stack.worker.pid, ...findServicePids(port) };

  const timings = { tools: new Map<number, ClientTiming>(), plain: new Map<number, ClientTiming>() };
  const send = async (mode: 'tools' | 'plain', index: number): Promise<void> => {
    const content = toolQuestion(index);
    const sentAtMs = Date.now();
    const answer = await api.call<{ turnId: string; assistantMessage: { content: string } }>(
      'POST',
      `/api/v1/conversations/${mode === 'tools' ? withTools : withoutTools}/messages`,
      mode === 'tools' ? { content, tools: [TOOL] } : { content },
    );
    timings[mode].set(index, { workflowId: `turn:${answer.turnId}`, sentAtMs, receivedAtMs: Date.now() });
    if (mode === 'plain') expectEcho(answer.assistantMessage.content, content);
    else if (answer.assistantMessage.content !== TOOL_ANSWER) {
      throw new Error(`unexpected answer ${JSON.stringify(answer.assistantMessage.content.slice(0, 80))}`);
    }
  };
  const durableA = (_lane: number, index: number) => send('tools', index);
  const durableB = (_lane: number, index: number) => send('plain', index);

  const inProcess = new InProcessToolSteps(stack);
  const localA = (_lane: number, index: number) => inProcess.withTools(toolQuestion(index));
  const localB = (_lane: number, index: number) => inProcess.withoutTools(toolQuestion(index));

  if (options.warmup > 0) {
    ctx.print(`warming up (${options.warmup} turns per mode)…`);
    const warm = { total: options.warmup, lanes: 1, signal: ctx.signal };
    expectNoFailures(await runLanes(warm, durableA), 'warm-up, API with tools');
    expectNoFailures(await runLanes(warm, durableB), 'warm-up, API without tools');
    expectNoFailures(await runLanes(warm, localA), 'warm-up, in-process with tools');
    expectNoFailures(await runLanes(warm, localB), 'warm-up, in-process without tools');
    timings.tools.clear();
    timings.plain.clear();
  }

  const blocks = { turns: options.turns, blocks: options.blocks, concurrency: 1, signal: ctx.signal, pids };
  ctx.print('measuring through the API: A (two tool steps) and B (no tools), alternating…');
  const [runA, runB] = await alternate(blocks, durableA, durableB);
  ctx.print('measuring in this process: the same two steps without Temporal, and one plain model call, alternating…');
  const [runLocalA, runLocalB] = await alternate(blocks, localA, localB);

  const modes = {
    apiWithTools: modeResult(runA.run, runA.cpu, options.turns),
    apiWithoutTools: modeResult(runB.run, runB.cpu, options.turns),
    inProcessWithTools: modeResult(runLocalA.run, runLocalA.cpu, options.turns),
    inProcessWithoutTools: modeResult(runLocalB.run, runLocalB.cpu, options.turns),
  };
  for (const [name, mode] of Object.entries(modes)) {
    if (mode.failures + mode.notRun > 0) {
      errors.push(
        `${name}: ${mode.failures + mode.notRun} of ${mode.turns} turns failed, e.g. ${mode.firstFailures[0]}`,
      );
    }
  }
  const firstToolTurn = timings.tools.values().next().value;
  if (firstToolTurn) errors.push(...(await checkActivities(stack, firstToolTurn.workflowId)));

  const durableStep = perStep(modes.apiWithTools, modes.apiWithoutTools);
  const inProcessStep = perStep(modes.inProcessWithTools, modes.inProcessWithoutTools);
  const overhead: Spread = {
    p50: round1(durableStep.p50 - inProcessStep.p50),
    p95: round1(durableStep.p95 - inProcessStep.p95),
    mean: round1(durableStep.mean - inProcessStep.mean),
  };
  const met = overhead.p50 <= STEP_OVERHEAD_TARGET_P50_MS;
  const cpuMsPerStep = Object.fromEntries(
    Object.keys(modes.apiWithTools.cpuMsPerTurn).map((proc) => [
      proc,
      round1(((modes.apiWithTools.cpuMsPerTurn[proc] ?? 0) - (modes.apiWithoutTools.cpuMsPerTurn[proc] ?? 0)) / 2),
    ]),
  );
  const breakdown = {
    withTools: await sampledSegments(ctx, stack, timings.tools, options.breakdownSample),
    withoutTools: await sampledSegments(ctx, stack, timings.plain, options.breakdownSample),
  };

  printFigures(ctx, options, modes, { durableStep, inProcessStep, overhead, met, cpuMsPerStep }, breakdown);

  return {
    parameters: {
      turnsPerMode: options.turns,
      concurrency: 1,
      warmupTurnsPerMode: options.warmup,
      blocks: options.blocks,
      fakeLlmDelayMs: 0,
      temporalAddress: stack.config.temporal.address,
      apiWithTools: `POST …/messages with tools ['${TOOL}']: 3 model calls (generate), 2 local runTool activities`,
      apiWithoutTools: 'the same messages without tools: 1 model call',
      inProcessWithTools:
        'the same provider asked 3 times with the tool offered and the rounds in the prompt, arguments parsed, ' +
        `the ${TOOL}'s run called twice (no Temporal, no HTTP to the API, no turn events)`,
      inProcessWithoutTools: '1 model call with the same provider',
      perStepDefinition: '(with tools − without tools) / 2, percentile by percentile',
      overheadDefinition: 'durable per-step − in-process per-step',
    },
    machine: { cores: modes.apiWithTools.cpu.cores, node: process.version },
    modes,
    perStepMs: { durable: durableStep, inProcess: inProcessStep, overhead },
    cpuMsPerStep,
    target: { name: 'overhead per tool step p50', targetMs: STEP_OVERHEAD_TARGET_P50_MS, actualMs: overhead.p50, met },
    apiTimeBreakdownMs: breakdown,
    serviceLogLines: { api: stack.api.logCounts, worker: stack.worker.logCounts },
  };
}

/**
 * A turn's two tool steps in this process: the provider the worker uses (behind its Redis breaker), the tool
 * offered as the generate activity offers it, the arguments parsed as it parses them, and the tool's own `run`.
 */
class InProcessToolSteps {
  private readonly llm: LlmProvider;
  private readonly registry: ToolRegistry;
  private readonly specs: LlmToolSpec[];
  private readonly maxTokens: number;

  constructor(stack: BenchStack) {
    this.llm = createChatLlm(stack.config, stack.redis, benchLogger(stack.config, 'bench-tools'));
    this.registry = deploymentTools(stack.config);
    this.specs = this.registry.openAiTools([TOOL]).map((tool) => tool.function);
    this.maxTokens = stack.config.llm.maxOutputTokens;
  }

  async withTools(content: string): Promise<void> {
    const messages: ChatMessage[] = [{ role: 'user', content }];
    for (let call = 0; call < MAX_MODEL_CALLS; call++) {
      const result = await this.llm.generate({
        messages,
        maxTokens: this.maxTokens,
        tools: this.specs,
        toolChoice: 'auto',
        onDelta: () => undefined,
      });
      const calls = result.toolCalls ?? [];
      if (calls.length === 0) {
        if (result.content !== TOOL_ANSWER) throw new Error(`unexpected answer ${JSON.stringify(result.content)}`);
        return;
      }
      messages.push({ role: 'assistant', content: result.content, toolCalls: calls });
      for (const toolCall of calls) {
        messages.push({
          role: 'tool',
          toolCallId: toolCall.id,
          content: await this.run(toolCall.name, toolCall.arguments),
        });
      }
    }
    throw new Error(`no answer after ${MAX_MODEL_CALLS} model calls`);
  }

  async withoutTools(content: string): Promise<void> {
    const result = await this.llm.generate({
      messages: [{ role: 'user', content }],
      maxTokens: this.maxTokens,
      onDelta: () => undefined,
    });
    expectEcho(result.content, content);
  }

  private async run(name: string, argumentsJson: string): Promise<string> {
    const tool = this.registry.get(name);
    const parsed = this.registry.parseArguments(name, argumentsJson);
    if (!tool || !parsed.ok) throw new Error(`the model asked for ${name} ${argumentsJson}: not runnable`);
    const output = await tool.run(parsed.args, {
      userId: 'bench',
      turnId: 'bench',
      signal: AbortSignal.timeout(tool.timeoutMs),
    });
    return output.content;
  }
}

/** Half the difference between a mode with two tool steps and the same without: what one step adds. */
function perStep(withTools: ModeResult, withoutTools: ModeResult): Spread {
  const half = (a: number, b: number): number => round1((a - b) / 2);
  const a = withTools.latencyMs;
  const b = withoutTools.latencyMs;
  return { p50: half(a.p50, b.p50), p95: half(a.p95, b.p95), mean: half(a.mean, b.mean) };
}

/**
 * The run was what it says: the tools turn ran its 3 model calls and 2 calculator calls as local activities inside its
 * workflow task (no activity task scheduled), beside its other steps (history, files, toolset, answer).
 */
async function checkActivities(stack: BenchStack, workflowId: string): Promise<string[]> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = (history.events ?? []).flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
  const localSteps = (history.events ?? []).filter(
    (event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  ).length;
  // prepareTurn, prepareTools, 3 generate, 2 runTool, persistAssistantMessage
  return scheduled.length === 0 && localSteps >= 8
    ? []
    : [`${workflowId} scheduled ${scheduled.join(', ')} and ${localSteps} local steps; expected 8 local steps`];
}

/** Segments of evenly spread turns of one mode, from their workflow histories. */
async function sampledSegments(
  ctx: BenchContext,
  stack: BenchStack,
  timings: Map<number, ClientTiming>,
  sample: number,
): Promise<SegmentSummary | undefined> {
  if (sample === 0 || timings.size === 0) return undefined;
  const all = [...timings.entries()].sort(([a], [b]) => a - b).map(([, timing]) => timing);
  const step = Math.max(1, Math.floor(all.length / sample));
  const picked = all.filter((_, i) => i % step === 0).slice(0, sample);
  return summarizeSegments(stack.temporal, picked, (line) => ctx.print(line));
}

function printFigures(
  ctx: BenchContext,
  options: ToolOptions,
  modes: Record<'apiWithTools' | 'apiWithoutTools' | 'inProcessWithTools' | 'inProcessWithoutTools', ModeResult>,
  step: { durableStep: Spread; inProcessStep: Spread; overhead: Spread; met: boolean; cpuMsPerStep: object },
  breakdown: { withTools: SegmentSummary | undefined; withoutTools: SegmentSummary | undefined },
): void {
  const p = ctx.print;
  p('');
  p(`Turn latency (ms), ${options.turns} turns per mode at concurrency 1`);
  p(`${pad('mode', 46)}${num('p50')}${num('p95')}${num('mean')}${num('max')}${num('turns/s')}${num('failed')}`);
  for (const [name, mode] of [
    ['A  API, 2 tool steps (3 generate, 2 runTool, local)', modes.apiWithTools],
    ['B  API, no tools (1 generate)', modes.apiWithoutTools],
    ['in-process, 2 tool steps (3 calls, 2 runs)', modes.inProcessWithTools],
    ['in-process, no tools (1 call)', modes.inProcessWithoutTools],
  ] as const) {
    const l = mode.latencyMs;
    p(
      `${pad(name, 46)}${num(l.p50)}${num(l.p95)}${num(l.mean)}${num(l.max)}${num(mode.turnsPerSecond)}` +
        `${num(mode.failures + mode.notRun)}`,
    );
  }
  p('');
  p(`Per tool step (ms)${' '.repeat(28)}${num('p50')}${num('p95')}${num('mean')}`);
  for (const [name, s] of [
    ['durable: (A − B) / 2', step.durableStep],
    ['in-process: (with − without) / 2', step.inProcessStep],
    ['overhead: durable − in-process', step.overhead],
  ] as const) {
    p(`  ${pad(name, 44)}${num(s.p50)}${num(s.p95)}${num(s.mean)}`);
  }
  p(
    `  target: overhead per step p50 ≤ ${STEP_OVERHEAD_TARGET_P50_MS} ms: ${step.overhead.p50} ms, ` +
      `${step.met ? 'met' : 'MISSED'}`,
  );
  p('');
  p('CPU time (ms), by process; machine busy = all cores, any process (other users included)');
  for (const [name, mode] of [
    ['A per turn', modes.apiWithTools],
    ['B per turn', modes.apiWithoutTools],
  ] as const) {
    const used = Object.entries(mode.cpuMsPerTurn).map(([proc, ms]) => `${proc} ${ms}`);
    p(`  ${pad(name, 14)}${used.join(', ')}; machine ${mode.cpu.machineBusyPct}% busy of ${mode.cpu.cores} cores`);
  }
  const perStepCpu = Object.entries(step.cpuMsPerStep).map(([proc, ms]) => `${proc} ${String(ms)}`);
  p(`  ${pad('per step', 14)}${perStepCpu.join(', ')}  ((A − B) / 2)`);
  const { withTools, withoutTools } = breakdown;
  if (withTools && withoutTools) {
    p('');
    p(
      `Where the time goes (sampled workflow histories; mean ms)${' '.repeat(14)}${num('A')}${num('B')}${num('(A−B)/2')}`,
    );
    const names = [...new Set([...Object.keys(withTools), ...Object.keys(withoutTools)])];
    for (const name of names) {
      const a = withTools[name]?.mean ?? 0;
      const b = withoutTools[name]?.mean ?? 0;
      p(`  ${pad(name, 68)}${num(a)}${num(b)}${num(round1((a - b) / 2))}`);
    }
  }
}
