import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import {
  notRunContent,
  type RequestedToolCall,
  type ToolCallOutcome,
  type ToolCallRecord,
  type ToolCallResult,
  MCP_TOOL_ATTEMPTS,
  MCP_TOOL_NAME,
  type McpToolRef,
  type ToolPolicy,
  type TurnToolset,
} from '#libs/contracts/tool-calls';
import { turnEvents } from '#libs/contracts/turn-events';
import { ToolError } from '#libs/tools/tool-definition';
import type { ToolRegistry } from '#libs/tools/tool-registry';
import { type ChatActivityContext, turnLogger } from './chat-activity-deps';
import type { McpGateway } from '#libs/mcp/mcp-gateway';

/** The deployment's tool settings (`TOOLS_*` in the environment). */
export interface ToolSettings {
  /** The tools this deployment offers; a turn picks among them. */
  enabled: string[];
  maxSteps: number;
  tokenBudget: number;
  approvalTimeoutMs: number;
}

export interface ToolActivityDeps extends Omit<ChatActivityContext, 'db'> {
  tools?: ToolRegistry;
  toolSettings?: ToolSettings;
  /** MCP servers' tools; without it a turn asking for them gets a note instead. */
  mcp?: McpGateway;
}

/** A call that is settled without running: invalid, denied, not approved in time, or failed in a way Temporal saw. */
export interface SkippedToolCall {
  outcome: Exclude<ToolCallOutcome, 'completed'>;
  detail: string;
}

export function createToolActivities(deps: ToolActivityDeps) {
  const { tools: registry, events } = deps;
  const settings = deps.toolSettings ?? { enabled: [], maxSteps: 5, tokenBudget: 100_000, approvalTimeoutMs: 900_000 };

  /** Ends one call: its record and `tool.result` event, and the text the model reads. */
  async function settle(
    turn: ChatTurnInput,
    call: RequestedToolCall,
    step: number,
    started: number,
    result: { outcome: ToolCallOutcome; summary: string; content: string },
  ): Promise<ToolCallResult> {
    const record: ToolCallRecord = {
      id: call.id,
      name: call.name,
      arguments: call.arguments,
      step,
      outcome: result.outcome,
      summary: result.summary.slice(0, 200),
      durationMs: Math.max(0, Date.now() - started),
    };
    // At least once: a retry after the worker died between this append and completing may append it again (same id).
    await events?.append(turn.turnId, turnEvents.toolResult(record));
    return { record, content: result.content };
  }

  return {
    /**
     * The tools a turn asked for that this deployment offers, with how each runs, and the loop's limits: recorded in
     * the turn's history, so a replay or a changed configuration leaves a running turn as it started.
     */
    async prepareTools(args: { turn: ChatTurnInput }): Promise<TurnToolset> {
      const notes: string[] = [];
      const usable: string[] = [];
      const fromMcp: string[] = [];
      for (const name of new Set(args.turn.tools ?? [])) {
        if (MCP_TOOL_NAME.test(name)) fromMcp.push(name);
        else if (!registry?.get(name) || !settings.enabled.includes(name)) notes.push(`${name} is not available here`);
        else usable.push(name);
      }
      let mcpTools: McpToolRef[] = [];
      if (fromMcp.length > 0) {
        if (!deps.mcp) notes.push(`MCP tools are not available here: ${fromMcp.join(', ')}`);
        else {
          const listed = await deps.mcp.toolsFor(args.turn.userId, fromMcp);
          mcpTools = listed.tools;
          notes.push(...listed.notes);
        }
      }
      if (notes.length > 0) {
        turnLogger(deps.logger, args.turn, 'prepareTools').info({ notes }, 'tools left out');
        await events?.append(args.turn.turnId, turnEvents.toolsUnavailable(notes));
      }
      return {
        tools: [
          ...(registry ? registry.policies(usable) : []),
          ...mcpTools.map((tool) => ({
            name: tool.name,
            timeoutMs: tool.timeoutMs,
            maxAttempts: MCP_TOOL_ATTEMPTS,
            requiresApproval: tool.requiresApproval,
          })),
        ],
        ...(mcpTools.length > 0 ? { mcpTools } : {}),
        maxSteps: settings.maxSteps,
        tokenBudget: settings.tokenBudget,
        approvalTimeoutMs: settings.approvalTimeoutMs,
        notes,
      };
    },

    /**
     * Runs one tool call the model asked for (validated again against the tool's schema), within the tool's own
     * timeout. A retryable failure before the last attempt is thrown for Temporal to retry; on the last attempt, and
     * for any other failure, the model is told what went wrong instead: a tool never fails the turn. With `skip`, the
     * call is settled without running (denied, not approved in time, invalid).
     */
    async runTool(args: {
      turn: ChatTurnInput;
      call: RequestedToolCall;
      step: number;
      policy?: ToolPolicy;
      /** Set for a tool of an MCP server. */
      mcpTool?: McpToolRef;
      skip?: SkippedToolCall;
    }): Promise<ToolCallResult> {
      const { turn, call, step } = args;
      const started = Date.now();
      const log = turnLogger(deps.logger, turn, 'runTool');
      const skip: SkippedToolCall | undefined =
        args.skip ??
        (call.invalid !== undefined ? { outcome: 'invalid', detail: call.invalid } : undefined) ??
        (!args.policy || (!args.mcpTool && !registry?.get(call.name)) || (args.mcpTool && !deps.mcp)
          ? { outcome: 'invalid', detail: `Tool ${call.name} is not available` }
          : undefined);
      if (skip) {
        return settle(turn, call, step, started, {
          outcome: skip.outcome,
          summary: skip.detail,
          content: notRunContent(skip.outcome, skip.detail),
        });
      }
      const policy = args.policy!;
      const parsed = args.mcpTool
        ? parseMcpArguments(deps.mcp!, args.mcpTool, call.arguments)
        : registry!.parseArguments(call.name, call.arguments);
      if (!parsed.ok) {
        return settle(turn, call, step, started, {
          outcome: 'invalid',
          summary: parsed.error,
          content: notRunContent('invalid', parsed.error),
        });
      }

      const ctx = Context.current();
      const timeout = AbortSignal.timeout(policy.timeoutMs);
      const signal = AbortSignal.any([ctx.cancellationSignal, timeout]);
      try {
        if (args.mcpTool) {
          const answered = await untilAborted(deps.mcp!.call(turn.userId, args.mcpTool, parsed.args, signal), signal);
          log.info({ tool: call.name, ms: Date.now() - started, isError: answered.isError }, 'MCP tool call answered');
          // The server's own error result is what the tool said: the model reads it (no retry, not a failure of ours).
          return settle(turn, call, step, started, {
            outcome: answered.isError ? 'failed' : 'completed',
            summary: answered.summary,
            content: answered.isError ? notRunContent('failed', answered.content) : answered.content,
          });
        }
        const output = await untilAborted(
          registry!
            .get(call.name)!
            .run(parsed.args, { userId: turn.userId, turnId: turn.turnId, signal, fileIds: turn.fileIds }),
          signal,
        );
        log.info({ tool: call.name, ms: Date.now() - started }, 'tool call completed');
        return settle(turn, call, step, started, { outcome: 'completed', ...output });
      } catch (error) {
        if (ctx.cancellationSignal.aborted) {
          // The user's cancel ends the turn; this worker stopping (or the attempt timing out) is retried elsewhere.
          if (ctx.cancellationDetails?.cancelRequested) throw new CancelledFailure('The turn was cancelled');
          throw ApplicationFailure.retryable(`The tool call was interrupted`, 'tool_interrupted');
        }
        const timedOut = timeout.aborted;
        const message = timedOut
          ? `${call.name} did not answer within ${policy.timeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error);
        const retryable = timedOut || !(error instanceof ToolError) || error.retryable;
        log.warn({ tool: call.name, attempt: ctx.info.attempt, retryable, err: message }, 'tool call failed');
        if (retryable && ctx.info.attempt < policy.maxAttempts) {
          throw ApplicationFailure.retryable(message, timedOut ? 'tool_timeout' : 'tool_failed');
        }
        return settle(turn, call, step, started, {
          outcome: 'failed',
          summary: message,
          content: notRunContent('failed', message),
        });
      }
    },
  };
}

/** An MCP tool's arguments: JSON, then the server's schema. */
function parseMcpArguments(
  mcp: McpGateway,
  tool: McpToolRef,
  raw: string,
): { ok: true; args: unknown } | { ok: false; error: string } {
  let args: unknown;
  try {
    args = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, error: `Invalid arguments for ${tool.name}: not JSON` };
  }
  const problem = mcp.checkArguments(tool, args);
  return problem === null ? { ok: true, args } : { ok: false, error: problem };
}

/** Rejects when `signal` aborts, whether or not the tool heeds it (a tool that ignores its signal cannot hang a turn). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const reason = (): Error => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return reject(reason());
    const onAbort = (): void => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
