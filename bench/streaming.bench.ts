import type { Client } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { turnWorkflowId } from '#libs/contracts/chat-turn.contract';
import { envInt, type BenchContext, type BenchResult, type BenchSection } from './bench-section';
import { ApiClient, signUpBenchUser } from './support/api-client';
import { type BenchStack, startBenchStack } from './support/bench-stack';
import { RssSampler } from './support/rss-sampler';
import { connectionsTo } from './support/socket-count';
import { answerText, idsIncrease, readSse, type TimedSseEvent } from './support/sse-client';
import { type LatencySummary, rounded, summarize } from './support/stats';
import { EVENT, eventMs, type SegmentSummary, summarizeTurns, type TurnSegments } from './support/turn-history';

/**
 * The targets, on a 2-core machine: time to first token, and the API's memory with many streams open at once
 * (up to 200 streams: 300 MB; up to 1,000: 400 MB). The bench holds 1,000 by default.
 */
export const STREAMING_TARGETS = {
  ttftOverheadP50Ms: 30,
  apiRssPeakMb: [
    { streams: 200, mb: 300 },
    { streams: 1_000, mb: 400 },
  ],
  streams: 1_000,
} as const;

/** The RSS target for `streams` open at once (none above the largest count the issue names). */
export function apiRssTargetMb(streams: number): number | undefined {
  return STREAMING_TARGETS.apiRssPeakMb.find((target) => streams <= target.streams)?.mb;
}

/** The fake model waits this long before its first token: subtracted from what the client measures. */
const FIRST_TOKEN_DELAY_MS = 150;
/** Between the tokens after the first in the time-to-first-token turns (about 50 tokens a second). */
const TTFT_TOKEN_DELAY_MS = 20;
/** In the many-streams run, the model's first-token delay: long enough for every stream to be open at once. */
const HOLD_MS = 3_000;

export const streamingSection: BenchSection = {
  id: 'streaming',
  title: 'Streaming: time to first token over SSE, and many concurrent streams on one API process',
  run: runStreamingBench,
};

/**
 * 1. Time to first token: turns sent one at a time with `Accept: text/event-stream`; the time from sending to the
 *    first `token` event at the client, minus the fake model's first-token delay. Also split: from the moment the
 *    model sent its first token (request arrival + delay, seen in this process's fake LLM) to the client.
 * 2. Many streams: N turns started at once, each followed by its own SSE connection to the end; the API's RSS peak
 *    (VmRSS sampled from /proc) and that no event was lost (tokens equal the expected answer, ids increasing).
 * Settings: BENCH_TTFT_TURNS (100), BENCH_STREAMS (1000), BENCH_STREAM_WORDS (40), BENCH_TOKEN_DELAY_MS (20).
 */
export async function runStreamingBench(ctx: BenchContext): Promise<BenchResult> {
  const options = {
    ttftTurns: envInt(ctx, 'BENCH_TTFT_TURNS', 100),
    streams: envInt(ctx, 'BENCH_STREAMS', STREAMING_TARGETS.streams, 1, 5_000),
    words: envInt(ctx, 'BENCH_STREAM_WORDS', 40, 1, 10_000),
    tokenDelayMs: envInt(ctx, 'BENCH_TOKEN_DELAY_MS', 20, 0, 10_000),
  };
  ctx.print(
    `Streaming: ${options.ttftTurns} turns for time to first token (model first-token delay ${FIRST_TOKEN_DELAY_MS} ms), ` +
      `then ${options.streams} concurrent SSE streams of ${options.words} words (${options.tokenDelayMs} ms per token).`,
  );
  const startedAt = new Date();
  const stack = await startBenchStack(ctx, 'bench_streaming', { WORKER_MAX_CONCURRENT_ACTIVITIES: '200' });
  const errors: string[] = [];
  try {
    const api = new ApiClient(stack.baseUrl, ctx.signal);
    await signUpBenchUser(api);
    const ttft = await measureTtft(ctx, stack, api, options.ttftTurns, errors);
    const many = await holdManyStreams(ctx, stack, api, options, errors);
    const ttftTarget = STREAMING_TARGETS.ttftOverheadP50Ms;
    const rssTarget = apiRssTargetMb(options.streams);
    const targets = [
      { name: 'TTFT minus model delay, p50 (from the client send)', limit: ttftTarget, actual: ttft.clientMs.p50 },
      { name: "TTFT from the model's first token, p50", limit: ttftTarget, actual: ttft.modelToClientMs.p50 },
      ...(rssTarget === undefined
        ? []
        : [{ name: `API RSS peak (MB), ${options.streams} streams`, limit: rssTarget, actual: many.apiRss.peakMb }]),
    ].map((t) => ({ ...t, target: `<= ${t.limit}`, pass: t.actual <= t.limit }));
    ctx.print('');
    for (const t of targets) ctx.print(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.actual} (target ${t.target})`);
    return {
      id: streamingSection.id,
      data: {
        startedAt: startedAt.toISOString(),
        options,
        firstTokenDelayMs: FIRST_TOKEN_DELAY_MS,
        ttft,
        many,
        targets,
      },
      errors,
    };
  } finally {
    const problems = await stack.close();
    for (const problem of problems) errors.push(`cleanup: ${problem}`);
  }
}

async function measureTtft(
  ctx: BenchContext,
  stack: BenchStack,
  api: ApiClient,
  turns: number,
  errors: string[],
): Promise<
  Record<'clientMs' | 'modelToClientMs' | 'sendToModelRequestMs', LatencySummary> & {
    turns: number;
    sendToModelRequest: SegmentSummary | undefined;
  }
> {
  stack.llm.firstTokenDelayMs = FIRST_TOKEN_DELAY_MS;
  // The rest of the answer at a model's pace, as a user sees it: a first token held back for a batch would show.
  stack.llm.tokenDelayMs = TTFT_TOKEN_DELAY_MS;
  const arrivals = new Map<string, number>();
  const echo = stack.llm.reply;
  stack.llm.reply = (messages, body) => {
    const last = [...messages].reverse().find((m) => m.role === 'user');
    if (last) arrivals.set(last.content, performance.now());
    return echo(messages, body);
  };
  const conversation = await createConversation(api, 'ttft');
  const client: number[] = [];
  const modelToClient: number[] = [];
  const sendToModel: number[] = [];
  const timings: ModelRequestTiming[] = [];
  const warmup = Math.min(5, turns);
  ctx.print(`time to first token: ${warmup} warm-up turns, then ${turns}…`);
  for (let i = -warmup; i < turns; i++) {
    ctx.signal.throwIfAborted();
    const content = `ttft question ${i} ${randomBytes(3).toString('hex')}`;
    const sentAt = performance.now();
    const reply = await readSse(
      `${stack.baseUrl}/api/v1/conversations/${conversation}/messages`,
      { authorization: api.authorization! },
      { method: 'POST', body: { content } },
    );
    const first = reply.events.find((e) => e.event === 'token');
    const problem = check(reply.status, reply.events, `Echo: ${content}`, reply.text);
    if (problem || !first) {
      errors.push(`ttft turn ${i}: ${problem ?? 'no token event'}`);
      continue;
    }
    if (i < 0) continue;
    client.push(first.at - sentAt - FIRST_TOKEN_DELAY_MS);
    const arrived = arrivals.get(content);
    if (arrived !== undefined) {
      modelToClient.push(first.at - arrived - FIRST_TOKEN_DELAY_MS);
      sendToModel.push(arrived - sentAt);
      const turnId = turnIdOf(reply.events);
      if (turnId !== undefined) {
        timings.push({ workflowId: turnWorkflowId(turnId), sentAtMs: epochMs(sentAt), modelAtMs: epochMs(arrived) });
      }
    }
    arrivals.delete(content);
  }
  stack.llm.reply = echo;
  const result = {
    clientMs: rounded(summarize(client)),
    modelToClientMs: rounded(summarize(modelToClient)),
    sendToModelRequestMs: rounded(summarize(sendToModel)),
    turns: client.length,
    sendToModelRequest: await summarizeTurns(
      timings,
      (timing) => modelRequestSegments(stack.temporal, timing),
      (line) => ctx.print(line),
    ),
  };
  ctx.print(
    `  client send → first token, minus the model's delay: p50 ${result.clientMs.p50} ms, p95 ${result.clientMs.p95} ms`,
  );
  ctx.print(
    `  of which client send → model request (turn saved, workflow started, activities scheduled): ` +
      `p50 ${result.sendToModelRequestMs.p50} ms, p95 ${result.sendToModelRequestMs.p95} ms`,
  );
  for (const [segment, ms] of Object.entries(result.sendToModelRequest ?? {})) {
    ctx.print(`    ${segment}: p50 ${ms.p50} ms, p95 ${ms.p95} ms`);
  }
  ctx.print(
    `  and model's first token → client (worker batching, Redis, shared reader, SSE): ` +
      `p50 ${result.modelToClientMs.p50} ms, p95 ${result.modelToClientMs.p95} ms`,
  );
  return result;
}

/** One time-to-first-token turn: its workflow, when the client sent it and when the model was asked (epoch ms). */
interface ModelRequestTiming {
  workflowId: string;
  sentAtMs: number;
  modelAtMs: number;
}

/**
 * Splits send → model request by the turn's history: the way in (HTTP, auth, turn rows, the start RPC), the first
 * workflow task's wait for the worker, and its work on the worker before the model call (the local activities
 * before `generate`).
 */
async function modelRequestSegments(temporal: Client, timing: ModelRequestTiming): Promise<TurnSegments> {
  const history = await temporal.workflow.getHandle(timing.workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = (type: number): number | undefined => {
    const event = events.find((candidate) => Number(candidate.eventType) === type);
    return event ? eventMs(event) : undefined;
  };
  const started = at(EVENT.workflowStarted);
  const taskStarted = at(EVENT.workflowTaskStarted);
  if (started === undefined || taskStarted === undefined)
    throw new Error(`${timing.workflowId}: no start in its history`);
  return {
    'send → workflow started (HTTP, auth, turn rows, start RPC)': started - timing.sentAtMs,
    'workflow started → its first task on the worker': taskStarted - started,
    'task on the worker → model request (the steps before generate)': timing.modelAtMs - taskStarted,
  };
}

function turnIdOf(events: TimedSseEvent[]): string | undefined {
  const started = events.find((event) => event.event === 'turn.started');
  const turnId = (started?.data as { turnId?: unknown } | undefined)?.turnId;
  return typeof turnId === 'string' ? turnId : undefined;
}

/** A `performance.now()` reading as epoch ms, comparable with the Temporal server's event times on this machine. */
function epochMs(now: number): number {
  return performance.timeOrigin + now;
}

async function holdManyStreams(
  ctx: BenchContext,
  stack: BenchStack,
  api: ApiClient,
  options: { streams: number; words: number; tokenDelayMs: number },
  errors: string[],
): Promise<Record<string, unknown> & { apiRss: ReturnType<RssSampler['report']> }> {
  // The model holds back its first token a while, so every stream is open before the first turn ends.
  stack.llm.firstTokenDelayMs = HOLD_MS;
  stack.llm.tokenDelayMs = options.tokenDelayMs;
  ctx.print(`${options.streams} concurrent streams: creating conversations…`);
  const conversations: string[] = [];
  for (let i = 0; i < options.streams; i++) conversations.push(await createConversation(api, `stream ${i}`));
  const text = (i: number): string => `s${i} ` + Array.from({ length: options.words - 1 }, (_, w) => `w${w}`).join(' ');

  const rss = new RssSampler(stack.api.pid, 50).start();
  const started = performance.now();
  let open = 0;
  let peakOpen = 0;
  /** Streams whose generation was restarted (its worker missed heartbeats under the load, or died). */
  let restarts = 0;
  // The API's connections to Redis while the most streams are open: the shared reader keeps this flat.
  const redisPort = Number(new URL(stack.config.redis.url).port || 6379);
  const redisBefore = connectionsTo(stack.api.pid, redisPort);
  let redisAtPeak: number | undefined;
  const runs = conversations.map(async (conversationId, i) => {
    const content = text(i);
    const turn = await startTurn(api, conversationId, content);
    open++;
    if (open > peakOpen) {
      peakOpen = open;
      if (open === options.streams || open % 50 === 0) redisAtPeak = connectionsTo(stack.api.pid, redisPort);
    }
    try {
      const reply = await readSse(`${stack.baseUrl}/api/v1/turns/${turn.id}/events`, {
        authorization: api.authorization!,
      });
      restarts += answerText(reply.events).restarts > 0 ? 1 : 0;
      return check(reply.status, reply.events, `Echo: ${content}`, reply.text);
    } finally {
      open--;
    }
  });
  const outcomes = await Promise.allSettled(runs);
  const wallMs = performance.now() - started;
  const apiRss = rss.stop();
  const lost = outcomes.flatMap((outcome, i) =>
    outcome.status === 'rejected'
      ? [`stream ${i}: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}`]
      : outcome.value
        ? [`stream ${i}: ${outcome.value}`]
        : [],
  );
  errors.push(...lost.slice(0, 20));
  if (lost.length > 20) errors.push(`… and ${lost.length - 20} more streams with problems`);
  const result = {
    streams: options.streams,
    complete: options.streams - lost.length,
    peakOpenStreams: peakOpen,
    streamsWithRestartedGeneration: restarts,
    apiRedisConnections: { beforeStreams: redisBefore, atPeakStreams: redisAtPeak },
    wallMs: Math.round(wallMs),
    apiRss,
  };
  ctx.print(
    `  ${result.complete}/${result.streams} streams complete and exact (peak ${peakOpen} open at once) in ` +
      `${result.wallMs} ms; API RSS peak ${apiRss.peakMb} MB (VmHWM ${apiRss.hwmMb} MB, ${apiRss.startMb} MB at start)`,
  );
  ctx.print(
    `  API connections to Redis: ${redisBefore ?? '?'} before the streams, ${redisAtPeak ?? '?'} with ${peakOpen} open`,
  );
  if (restarts > 0) ctx.print(`  ${restarts} stream(s) saw their generation restarted, and showed the answer once`);
  return result;
}

/**
 * Why a stream is not exactly the expected turn (as a client following the protocol shows it: text after a
 * `restarted` generation replaces what came before), or undefined when it is.
 */
function check(status: number, events: TimedSseEvent[], expected: string, body: string): string | undefined {
  if (status !== 200) return `HTTP ${status} ${body.slice(0, 200)}`;
  const last = events.at(-1);
  if (last?.event !== 'message.completed') return `ended with ${last?.event ?? 'nothing'}`;
  if (!idsIncrease(events)) return 'event ids not strictly increasing';
  const { text } = answerText(events);
  if (text !== expected) return `tokens differ from the answer (${text.length} vs ${expected.length} chars)`;
  const stored = (last.data as { assistantMessage?: { content?: string } }).assistantMessage?.content;
  if (stored !== expected) return 'the stored answer differs from the one asked for';
  return undefined;
}

/** `Prefer: respond-async`: the turn starts, the answer is 202 at once. */
async function startTurn(api: ApiClient, conversationId: string, content: string): Promise<{ id: string }> {
  const res = await fetch(`${api.baseUrl}/api/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { authorization: api.authorization!, 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ content }),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`starting a turn: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as { id: string };
}

async function createConversation(api: ApiClient, title: string): Promise<string> {
  return (await api.call<{ id: string }>('POST', '/api/v1/conversations', { title: `bench ${title}` }, 201)).id;
}
