import type { AuditWriter } from '#libs/audit/audit-writer';
import { replayConversationWorkflowId, replayWorkflowId } from '#libs/contracts/replay.contract';
import type { Database } from '#libs/db/database';
import type { LlmProvider } from '#libs/llm/llm-provider';
import type { Logger } from '#libs/logging/logger';
import type { StepPriority } from '../chat/step-priority';

/** What the replay activities may be given; each factory takes only the part it uses. */
export interface ReplayActivityContext {
  db: Database;
  logger: Logger;
}

export type ReplayAuditDeps = { audit: AuditWriter };

/**
 * The judge asks a model: the same fallback chain the chat turns use, and the same priority (live turns first) when
 * the worker runs both.
 */
export type ReplayJudgeDeps = { llm: LlmProvider; priority?: StepPriority };

/** A logger whose every line names the replay (and the conversation) and the activity. */
export function replayLogger(logger: Logger, replayId: string, conversationId: string | undefined, activity: string) {
  return logger.child({
    replayId,
    ...(conversationId ? { conversationId } : {}),
    workflowId: conversationId ? replayConversationWorkflowId(replayId, conversationId) : replayWorkflowId(replayId),
    activity,
  });
}
