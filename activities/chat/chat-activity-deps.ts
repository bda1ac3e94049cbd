import type { AuditWriter } from '#libs/audit/audit-writer';
import type { TokenCounter } from '#libs/chat/token-counter';
import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import { replayConversationWorkflowId, type ReplayStepRef } from '#libs/contracts/replay.contract';
import type { Database } from '#libs/db/database';
import type { TurnEventSink } from '#libs/events/turn-event-log';
import type { Logger } from '#libs/logging/logger';
import type { StepPriority } from './step-priority';

/** What every chat activity may be given; each factory takes only the part it uses. */
export interface ChatActivityContext {
  db: Database;
  logger: Logger;
  /** Where live turn events go (a Redis Stream per turn); without it the turn runs the same, unstreamed. */
  events?: TurnEventSink;
  /** Live turns before replayed ones in a worker that runs both; without it both run as they come. */
  priority?: StepPriority;
}

/** The prompt's token budget. */
export interface PromptBudget {
  tokenCounter: TokenCounter;
  contextTokens: number;
  maxOutputTokens: number;
}

export type AuditDeps = { audit: AuditWriter };

/** The tokens the prompt may use: the model's window minus room for the answer. */
export function promptTokenBudget(budget: Pick<PromptBudget, 'contextTokens' | 'maxOutputTokens'>): number {
  return Math.max(budget.contextTokens - budget.maxOutputTokens, 64);
}

/** A logger whose every line names the turn, its request and the activity. */
export function turnLogger(logger: Logger, turn: ChatTurnInput, activity: string): Logger {
  return logger.child({ requestId: turn.requestId, turnId: turn.turnId, workflowId: `turn:${turn.turnId}`, activity });
}

/**
 * The shared steps (context, sources, generation) run for a live turn or for a replayed one. A replayed step names
 * its replay, conversation, turn and arm (`replay`) instead of a turn: it has no turn row and emits no live events.
 */
export function isReplayStep<T extends { replay: ReplayStepRef }>(input: ChatTurnInput | T): input is T {
  return 'replay' in input;
}

/** A logger for a step of either kind: the turn's ids, or the replay's, conversation's, turn's and arm's. */
export function stepLogger(logger: Logger, input: ChatTurnInput | { replay: ReplayStepRef }, activity: string): Logger {
  if (!isReplayStep(input)) return turnLogger(logger, input, activity);
  const { replayId, conversationId, turnIndex, armIndex } = input.replay;
  return logger.child({
    replayId,
    conversationId,
    turnIndex,
    armIndex,
    workflowId: replayConversationWorkflowId(replayId, conversationId),
    activity,
  });
}
