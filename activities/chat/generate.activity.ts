import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { assemblePrompt } from '#libs/chat/source-prompt';
import type {
  ChatTurnInput,
  ContextSource,
  GenerationOutput,
  LoadedContext,
  PartialAnswer,
} from '#libs/contracts/chat-turn.contract';
import { TURN_CANCEL_HINTED, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import type { ReplayStepRef } from '#libs/contracts/replay.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { generated, stepRunning } from '#libs/contracts/turn-steps';
import type { McpToolRef, RequestedToolCall, ToolLoopState } from '#libs/contracts/tool-calls';
import type { ChatMessage, LlmProvider, LlmToolCall } from '#libs/llm/llm-provider';
import type { ToolRegistry } from '#libs/tools/tool-registry';
import { type ChatActivityContext, type PromptBudget, promptTokenBudget, stepLogger } from './chat-activity-deps';
import { toActivityFailure } from './llm-failure';
import type { McpGateway } from '#libs/mcp/mcp-gateway';
import type { TurnCancelHints } from '#libs/events/turn-cancel-hints';
import { TokenBatcher } from './token-batcher';

export interface GenerateDeps extends Omit<ChatActivityContext, 'db'>, PromptBudget {
  llm: LlmProvider;
  /** How often a running generation reports liveness to Temporal. */
  heartbeatIntervalMs?: number;
  /** The tools a turn may offer the model; none: a turn asking for tools is answered without them. */
  tools?: ToolRegistry;
  /** Checks MCP tools' arguments against their servers' schemas. */
  mcp?: McpGateway;
  /** Cancels sent ahead by the API, heard while the call runs as a local activity (its workflow task is busy). */
  cancelHints?: TurnCancelHints;
}

/**
 * What to answer from: the history and the sources, for a live turn (`turn`: its deltas stream to the turn's events)
 * or for a replayed one (`replay`: no events, no partial answer kept on cancel).
 */
export type GenerateArgs = { context: LoadedContext; sources?: ContextSource[]; tools?: ToolLoopState } & (
  { turn: ChatTurnInput } | { replay: ReplayStepRef }
);

export function createGenerate(deps: GenerateDeps) {
  const { llm, events } = deps;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 2000;
  return {
    /**
     * Calls the model with the sources numbered in the prompt, streaming its deltas to the turn's events; heartbeats so
     * a dead worker is noticed and the call retried elsewhere. Writes nothing to the database: a user's cancel ends it
     * with a `CancelledFailure` (or, stopped by the API's hint, a `turn_cancel_hinted` failure) whose details carry the
     * partial answer, for `finishCancelledTurn` to keep.
     */
    async generate(args: GenerateArgs): Promise<GenerationOutput> {
      if ('turn' in args) {
        deps.priority?.live();
        return answer(args);
      }
      // A replayed turn's model call waits while live turns need the worker.
      return deps.priority ? deps.priority.batch(() => answer(args)) : answer(args);
    },
  };

  /** The model call itself, live or replayed. */
  async function answer(args: GenerateArgs): Promise<GenerationOutput> {
    const { context } = args;
    const turn = 'turn' in args ? args.turn : undefined;
    const log = stepLogger(deps.logger, turn ?? { replay: (args as { replay: ReplayStepRef }).replay }, 'generate');
    const ctx = Context.current();
    const started = Date.now();
    // Only a live turn streams: a replayed answer is read from its stored result.
    const live = turn && events ? { events, turnId: turn.turnId } : undefined;
    const tokens = live ? new TokenBatcher(live.events, live.turnId) : undefined;
    const round = args.tools?.rounds.length ?? 0;
    if (live) {
      const earlier = await live.events.beginGeneration(live.turnId, round);
      if (earlier.kept !== undefined) {
        const kept = JSON.parse(earlier.kept) as KeptGeneration;
        // An earlier run was stopped by the user's cancel, and Temporal never recorded how it ended (its workflow task
        // was lost): it ends the same way, with the partial answer the user saw, not with a new answer.
        if (kept.cancelled === true) {
          log.info({ attempt: ctx.info.attempt }, 'generation cancelled by an earlier run of this step');
          throw stoppedByCancel({ content: kept.content, model: kept.model, citations: kept.citations ?? [] }, false);
        }
        // This call finished on a worker that died before Temporal recorded it: its answer is not asked for again.
        log.info({ attempt: ctx.info.attempt }, 'generation kept by an earlier run of this step');
        return kept;
      }
      // A retry starts the answer over: a client drops the partial text it has on `restarted`.
      if (ctx.info.attempt > 1 || earlier.restarted) {
        await live.events.append(live.turnId, turnEvents.step({ name: 'generation', status: 'restarted' }));
      }
      await live.events.append(live.turnId, turnEvents.step(stepRunning('generation')));
    }
    const prompt = assemblePrompt(context, args.sources ?? [], promptTokenBudget(deps), deps.tokenCounter);
    const loop =
      args.tools && deps.tools ? withToolRounds(prompt.messages, args.tools, deps.tools, deps.mcp) : undefined;
    let content = '';
    let lastBeat = 0;
    // Heartbeats carry liveness while the model thinks, and bring a cancellation request to this activity. A local
    // activity (a replayed turn) has no heartbeats: its workflow task carries its liveness.
    const heartbeat = ctx.info.isLocal ? () => undefined : () => ctx.heartbeat({ chars: content.length });
    const beat = setInterval(heartbeat, heartbeatIntervalMs);
    // A local call's cancel request reaches the workflow only when its task ends: the API's hint stops it sooner.
    const hinted = turn && ctx.info.isLocal && deps.cancelHints ? new AbortController() : undefined;
    const unwatch = hinted ? deps.cancelHints!.watch(turn!.turnId, () => hinted.abort()) : undefined;
    const signal = hinted ? AbortSignal.any([ctx.cancellationSignal, hinted.signal]) : ctx.cancellationSignal;
    const called = Date.now();
    let firstTokenMs: number | undefined;
    try {
      const result = await llm.generate({
        model: context.model,
        messages: loop?.messages ?? prompt.messages,
        maxTokens: deps.maxOutputTokens,
        ...(loop ? { tools: loop.specs, toolChoice: args.tools!.final ? ('none' as const) : ('auto' as const) } : {}),
        signal,
        onDelta: (delta) => {
          content += delta;
          tokens?.push(delta);
          const now = Date.now();
          firstTokenMs ??= now - called;
          if (now - lastBeat >= heartbeatIntervalMs) {
            lastBeat = now;
            heartbeat();
          }
        },
      });
      const latencyMs = Date.now() - called;
      await tokens?.drain();
      // The calls the model asked for, checked against their schemas; on the loop's last call none may run.
      const toolCalls =
        loop && !args.tools!.final && result.toolCalls && result.toolCalls.length > 0
          ? result.toolCalls.map((call) => loop.check(call))
          : undefined;
      if (live && toolCalls) {
        const step = args.tools!.rounds.length;
        const expiresAt = new Date(Date.now() + (args.tools!.approvalTimeoutMs ?? 0)).toISOString();
        for (const call of toolCalls) {
          await live.events.append(live.turnId, turnEvents.toolCall(call, step));
          if (call.requiresApproval && call.invalid === undefined) {
            await live.events.append(live.turnId, turnEvents.approvalRequired(call, step, expiresAt));
          }
        }
      }
      if (live) await live.events.append(live.turnId, turnEvents.step(generated(result)));
      log.info(
        { provider: result.provider, model: result.model, ms: Date.now() - started, attempt: ctx.info.attempt },
        'generation finished',
      );
      const output: GenerationOutput = {
        content: result.content,
        model: result.model,
        provider: result.provider,
        finishReason: result.finishReason,
        usage: result.usage,
        citations: prompt.citations,
        latencyMs,
        firstTokenMs: firstTokenMs ?? latencyMs,
        ...(toolCalls ? { toolCalls } : {}),
      };
      if (live) await live.events.keepGeneration(live.turnId, round, JSON.stringify(output));
      return output;
    } catch (error) {
      // Only a cancel the user asked for keeps a partial answer. The signal also fires when this worker shuts down
      // or the attempt times out: then the error goes to the retry policy and another attempt answers in full.
      const userCancelled = ctx.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested === true;
      if (turn && (userCancelled || hinted?.signal.aborted)) {
        await tokens?.drain();
        log.info({ chars: content.length }, 'generation cancelled');
        const partial: Required<Omit<PartialAnswer, 'toolCalls'>> = {
          content,
          model: context.model ?? llm.defaultModel,
          citations: prompt.citations,
        };
        // Kept like a finished answer: should this step run again (a workflow task lost before Temporal recorded how
        // it ended), it stops with this text instead of calling the model afresh.
        if (live) {
          const output: KeptGeneration = { ...partial, provider: '', finishReason: 'cancelled', cancelled: true };
          await live.events.keepCancelled(live.turnId, round, JSON.stringify(output));
        }
        throw stoppedByCancel(partial, userCancelled);
      }
      // The provider calls every abort final (`llm_aborted`, not retryable: right for a caller who gave up), but this
      // one is ours, not the caller's nor the model's: retryable, or a deploy's SIGTERM would fail the turn.
      if (ctx.cancellationSignal.aborted && !userCancelled) throw interrupted(ctx, log);
      throw toActivityFailure(error, log);
    } finally {
      clearInterval(beat);
      unwatch?.();
      // Whatever was generated before a failure still reaches the stream, before any later event.
      await tokens?.drain();
    }
  }
}

/**
 * What a round's kept output holds: the finished answer, or (`cancelled`) the partial one a cancel stopped, in the same
 * shape, so a worker of an older release that finds it keeps that text as the answer rather than failing on it.
 */
type KeptGeneration = GenerationOutput & { cancelled?: true };

/**
 * How a generation stopped by the user's cancel ends. Seen by Temporal (`userCancelled`): a `CancelledFailure`. Stopped
 * by the API's hint, or again by an earlier run's kept stop: a failure the workflow knows, after which it waits for the
 * cancel request, recorded before either.
 */
function stoppedByCancel(partial: PartialAnswer, userCancelled: boolean): Error {
  if (userCancelled) return new CancelledFailure('The turn was cancelled', [partial]);
  return ApplicationFailure.create({
    message: 'The turn was cancelled',
    type: TURN_CANCEL_HINTED,
    nonRetryable: true,
    details: [partial],
  });
}

/**
 * The prompt of a tool loop's model call: the turn's prompt, then each round so far (the model's calls, then every
 * call's result), with the turn's tools offered; and how a call the model asks for is checked.
 */
function withToolRounds(messages: ChatMessage[], state: ToolLoopState, registry: ToolRegistry, mcp?: McpGateway) {
  const offered = state.names.filter((name) => registry.get(name) !== undefined);
  const policies = new Map(registry.policies(offered).map((policy) => [policy.name, policy]));
  const mcpTools = new Map((mcp ? (state.mcpTools ?? []) : []).map((tool) => [tool.name, tool]));
  const rounds: ChatMessage[] = state.rounds.flatMap((round) => [
    {
      role: 'assistant' as const,
      content: round.content,
      toolCalls: round.calls.map(({ id, name, arguments: text }) => ({ id, name, arguments: text })),
    },
    ...round.results.map((result) => ({
      role: 'tool' as const,
      toolCallId: result.record.id,
      content: result.content,
    })),
  ]);
  return {
    messages: [...messages, ...rounds],
    specs: [
      ...registry.openAiTools(offered).map(({ function: spec }) => spec),
      ...[...mcpTools.values()].map(({ name, description, parameters }) => ({ name, description, parameters })),
    ],
    check(call: LlmToolCall): RequestedToolCall {
      const policy = policies.get(call.name);
      const base = { id: call.id, name: call.name, arguments: call.arguments };
      const mcpTool = mcpTools.get(call.name);
      if (mcpTool) {
        const problem = checkMcpArguments(mcp!, mcpTool, call.arguments);
        return { ...base, requiresApproval: mcpTool.requiresApproval, ...(problem ? { invalid: problem } : {}) };
      }
      if (!policy)
        return { ...base, requiresApproval: false, invalid: `Tool ${call.name} is not available in this turn` };
      const parsed = registry.parseArguments(call.name, call.arguments);
      return parsed.ok
        ? { ...base, requiresApproval: policy.requiresApproval }
        : { ...base, requiresApproval: policy.requiresApproval, invalid: parsed.error };
    },
  };
}

/** Null when an MCP tool's JSON arguments fit its server's schema. */
function checkMcpArguments(mcp: McpGateway, tool: McpToolRef, raw: string): string | null {
  try {
    return mcp.checkArguments(tool, raw.trim() === '' ? {} : JSON.parse(raw));
  } catch {
    return `Invalid arguments for ${tool.name}: not JSON`;
  }
}

/**
 * The model call was cut off by this worker shutting down or the attempt timing out: a retryable failure naming the
 * SDK's reason (`WORKER_SHUTDOWN`, `TIMED_OUT`, …), so another attempt answers in full.
 */
function interrupted(ctx: Context, log: { warn(obj: object, msg: string): void }): ApplicationFailure {
  const reason: unknown = ctx.cancellationSignal.reason;
  const why = reason instanceof Error ? reason.message : String(reason);
  log.warn({ why }, 'generation interrupted; another attempt answers');
  return ApplicationFailure.retryable(
    `The generation was interrupted (${why})`,
    TURN_FAILURE_TYPES.generationInterrupted,
  );
}
