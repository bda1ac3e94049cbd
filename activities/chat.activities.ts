import { createAnswerTurn } from './chat/answer-turn.activity';
import { type AuditDeps, type ChatActivityContext, type PromptBudget } from './chat/chat-activity-deps';
import { createFinishCancelledTurn } from './chat/finish-cancelled-turn.activity';
import { createGenerate, type GenerateDeps } from './chat/generate.activity';
import { createLoadContext } from './chat/load-context.activity';
import { createMarkTurnFailed } from './chat/mark-turn-failed.activity';
import { createPersistAssistantMessage } from './chat/persist-assistant-message.activity';
import { createPrepareTurn } from './chat/prepare-turn.activity';
import { createRecordAudit } from './chat/record-audit.activity';
import { createRetrieveFromFiles, type RetrieveFromFilesDeps } from './chat/retrieve-from-files.activity';
import { createSearchWeb, type SearchWebDeps } from './chat/search-web.activity';
import { createToolActivities, type ToolActivityDeps } from './chat/tools.activity';

export type { FileRetriever } from './chat/retrieve-from-files.activity';
export type { WebSearcher } from './chat/search-web.activity';

/** Everything the chat turn's activities use; the worker passes real clients, tests may pass others. */
export type ChatActivityDeps = ChatActivityContext &
  PromptBudget &
  AuditDeps &
  Pick<GenerateDeps, 'llm' | 'heartbeatIntervalMs' | 'tools' | 'cancelHints'> &
  Pick<ToolActivityDeps, 'toolSettings' | 'mcp'> &
  Pick<RetrieveFromFilesDeps, 'retriever' | 'retrievalTopK'> &
  Pick<SearchWebDeps, 'webSearch'>;

/**
 * The `chatTurn` workflow's activities, one small factory per activity (activities/chat/*.activity.ts). The names are
 * part of every recorded history: never rename one.
 */
export function createChatActivities(deps: ChatActivityDeps) {
  const turnSteps = {
    ...createPrepareTurn(deps),
    ...createGenerate(deps),
    ...createPersistAssistantMessage(deps),
  };
  return {
    ...createLoadContext(deps),
    ...createRetrieveFromFiles(deps),
    ...createSearchWeb(deps),
    ...turnSteps,
    ...createAnswerTurn(turnSteps),
    ...createFinishCancelledTurn(deps),
    ...createMarkTurnFailed(deps),
    ...createRecordAudit(deps),
    ...createToolActivities(deps),
  };
}

export type ChatActivities = ReturnType<typeof createChatActivities>;
