import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  Client,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { AppConfig } from '#libs/config/app-config';
import {
  CHAT_TURN_WORKFLOW,
  ChatTurnInput,
  PersistedAssistantMessage,
  TURN_PROGRESS_QUERY,
  TurnProgress,
  turnWorkflowId,
} from '#libs/contracts/chat-turn.contract';
import { SEARCH_ATTRIBUTE_KEYS } from '#libs/contracts/search-attributes';
import { MCP_TOOL_NAME, TOOL_DECISION_UPDATE, type ToolDecision } from '#libs/contracts/tool-calls';
import { typedFailureOf } from '#libs/contracts/temporal-failure';
import { currentTraceId } from '#libs/telemetry/tracing';
import { APP_CONFIG, REDIS, TEMPORAL_CLIENT } from '../infra/di-symbols';
import { publishTurnCancelHint } from '#libs/events/turn-cancel-hints';

/** The turn's workflow ended in failure; `type` is the ApplicationFailure type the workflow reported. */
export class TurnFailedError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long `progress` waits for the workflow to answer its query. */
const PROGRESS_QUERY_WAIT_MS = 300;

/** The workflow already closed: its outcome is in the database. */
export class TurnAlreadyClosedError extends Error {}

/** The API's port to Temporal for chat turns. */
@Injectable()
export class TurnRunner {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(REDIS) private readonly redis?: Redis,
  ) {}

  /**
   * Starts the turn's workflow (or attaches to it when it already runs) and waits for its result, the persisted
   * answer: the workflow ends in the task that persists it. Cheaper than waiting on the workflow's `turnResult` update
   * (update-with-start), which the API used until 2026-12-05: at concurrency 8, 42.4 against 36.2 turns/s and ~4 ms
   * less of the worker's CPU per turn (the update's protocol messages and handler). The update stays in the workflow
   * for clients that still send it. A cancelled turn's outcome (the partial answer, if any) is in the database:
   * `TurnAlreadyClosedError` sends the caller there, as for a turn that had already ended.
   */
  async runAndWait(input: ChatTurnInput, kind: string): Promise<PersistedAssistantMessage> {
    try {
      const handle = await this.client.workflow.start(CHAT_TURN_WORKFLOW, {
        ...this.startOptions(input, kind),
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return (await handle.result()) as PersistedAssistantMessage;
    } catch (error) {
      throw translate(error);
    }
  }

  /** Starts the workflow and returns at once (`Prefer: respond-async`). Starting twice is harmless. */
  async start(input: ChatTurnInput, kind: string): Promise<void> {
    try {
      await this.client.workflow.start(CHAT_TURN_WORKFLOW, {
        ...this.startOptions(input, kind),
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw error;
    }
  }

  /** Asks the turn's workflow to cancel; false when it is no longer running. */
  async cancel(turnId: string): Promise<boolean> {
    const handle = this.client.workflow.getHandle(turnWorkflowId(turnId));
    try {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return false;
      await handle.cancel();
      // Recorded: now tell the worker running the model call, which hears it sooner than the workflow does.
      if (this.redis) await publishTurnCancelHint(this.redis, this.config.redis.keyPrefix, turnId);
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  /**
   * Hands the owner's decision on a tool call to the turn's workflow (an update its validator may refuse: the failure
   * type says why). `closed`: the workflow no longer runs.
   */
  async decideToolCall(turnId: string, decision: ToolDecision): Promise<'accepted' | 'closed' | { refused: string }> {
    const handle = this.client.workflow.getHandle(turnWorkflowId(turnId));
    try {
      await handle.executeUpdate(TOOL_DECISION_UPDATE, { args: [decision] });
      return 'accepted';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'closed';
      if (error instanceof WorkflowUpdateFailedError) return { refused: typedFailureOf(error)?.type ?? 'refused' };
      // An update sent to a closed run fails with "workflow execution already completed".
      if (error instanceof Error && /already completed|not found/i.test(error.message)) return 'closed';
      throw error;
    }
  }

  /**
   * Live progress of a running turn, or undefined when the workflow cannot be asked now. A query waits for the
   * workflow's task in progress, which holds the model call: the caller does not wait for the answer.
   */
  async progress(turnId: string): Promise<TurnProgress | undefined> {
    try {
      return await this.client.withDeadline(Date.now() + PROGRESS_QUERY_WAIT_MS, () =>
        this.client.workflow.getHandle(turnWorkflowId(turnId)).query<TurnProgress>(TURN_PROGRESS_QUERY),
      );
    } catch {
      return undefined;
    }
  }

  private mayWaitForApproval(input: ChatTurnInput): boolean {
    // MCP tools wait for approval unless their server says otherwise (known only when the turn lists them).
    return (input.tools ?? []).some(
      (name) => this.config.tools.requireApproval.includes(name) || MCP_TOOL_NAME.test(name),
    );
  }

  private approvalAllowanceMs(): number {
    return this.config.tools.maxSteps * this.config.tools.approvalTimeoutMs;
  }

  /** The workflow's start options for a turn (id, queue, timeout, search attributes, memo). */
  startOptions(input: ChatTurnInput, kind: string) {
    // With tracing on, the request's trace: the Temporal UI's turn leads to its trace (memo fields are encrypted).
    const traceId = currentTraceId();
    return {
      workflowId: turnWorkflowId(input.turnId),
      taskQueue: this.config.temporal.chatTaskQueue,
      args: [input] as [ChatTurnInput],
      // A closed turn is never run again under the same id: a retried request reads its outcome instead.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      // A turn whose tools wait for approval may wait that long in each of its tool rounds.
      workflowExecutionTimeout: 15 * 60_000 + (this.mayWaitForApproval(input) ? this.approvalAllowanceMs() : 0),
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTE_KEYS.userId, value: input.userId },
        { key: SEARCH_ATTRIBUTE_KEYS.conversationId, value: input.conversationId },
        { key: SEARCH_ATTRIBUTE_KEYS.turnKind, value: kind },
      ],
      memo: {
        summary: `${kind} turn in conversation ${input.conversationId} for user ${input.userId}`,
        requestId: input.requestId,
        userMessageId: input.userMessageId,
        ...(traceId ? { traceId } : {}),
      },
    };
  }
}

function translate(error: unknown): Error {
  if (error instanceof WorkflowExecutionAlreadyStartedError) return new TurnAlreadyClosedError(error.message);
  if (error instanceof WorkflowFailedError) {
    // Cancelled: its outcome (the partial answer, if any) is in the database, as for a turn that had already ended.
    if (error.cause instanceof CancelledFailure) return new TurnAlreadyClosedError(error.message);
    const cause = typedFailureOf(error);
    if (cause) return new TurnFailedError(cause.type ?? 'turn_failed', cause.message);
    return new TurnFailedError('turn_failed', error.message);
  }
  return error instanceof Error ? error : new Error(String(error));
}
