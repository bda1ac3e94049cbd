import { createFinishReplayConversation } from './replay/finish-replay-conversation.activity';
import { createJudgeReplayAnswer } from './replay/judge-replay-answer.activity';
import { createListReplayConversations } from './replay/list-replay-conversations.activity';
import { createLoadReplayTurns } from './replay/load-replay-turns.activity';
import { createRecordReplayState } from './replay/record-replay-state.activity';
import type { ReplayActivityContext, ReplayAuditDeps, ReplayJudgeDeps } from './replay/replay-activity-deps';
import { createStoreReplayResult } from './replay/store-replay-result.activity';
import { createSummarizeReplay } from './replay/summarize-replay.activity';

export type ReplayActivityDeps = ReplayActivityContext & ReplayAuditDeps & ReplayJudgeDeps;

/**
 * The replay workflows' own activities, one small factory per activity (activities/replay/*.activity.ts). A replayed
 * turn's context, sources and generation are the chat activities (createChatActivities), registered beside these on
 * the replay task queue. The names are part of every recorded history: never rename one.
 */
export function createReplayActivities(deps: ReplayActivityDeps) {
  return {
    ...createListReplayConversations(deps),
    ...createRecordReplayState(deps),
    ...createLoadReplayTurns(deps),
    ...createStoreReplayResult(deps),
    ...createJudgeReplayAnswer(deps),
    ...createFinishReplayConversation(deps),
    ...createSummarizeReplay(deps),
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
