import { ApplicationFailure } from '@temporalio/activity';
import { REPLAY_FAILURE_TYPES, type ReplayTurnRef } from '#libs/contracts/replay.contract';
import { type ReplayActivityContext, replayLogger } from './replay-activity-deps';

/** The conversation was deleted after the replay was created: there is nothing left to replay. */
export function conversationGone(conversationId: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `Conversation ${conversationId} no longer exists`,
    REPLAY_FAILURE_TYPES.conversationGone,
  );
}

export function createLoadReplayTurns(deps: ReplayActivityContext) {
  const { db } = deps;
  return {
    /**
     * The user turns of the conversation's current branch, in order, each with the answer the branch holds for it and
     * who sent it (retrieval reads that user's files, restricted as the original turn was). Ids only. Marks the
     * conversation's replay running.
     */
    async loadReplayTurns(args: {
      replayId: string;
      conversationId: string;
      maxTurns?: number;
    }): Promise<ReplayTurnRef[]> {
      const { replayId, conversationId } = args;
      await db.replays.markConversationRunning(replayId, conversationId);
      const conversation = await db.conversations.findById(conversationId);
      if (!conversation) throw conversationGone(conversationId);
      if (!conversation.currentMessageId) return [];
      const rows = await db.messages.loadBranch(conversationId, conversation.currentMessageId);
      const pairs = rows.flatMap((row, at) => {
        if (row.role !== 'user') return [];
        const next = rows[at + 1];
        return [{ user: row, answer: next?.role === 'assistant' ? next : undefined }];
      });
      const limited = args.maxTurns === undefined ? pairs : pairs.slice(0, args.maxTurns);
      const turnIds = [
        ...new Set(
          limited.flatMap(({ user, answer }) => {
            const id = answer?.turnId ?? user.turnId;
            return id ? [id] : [];
          }),
        ),
      ];
      const turns = new Map((await db.turns.findByIds(turnIds)).map((turn) => [turn.id, turn]));
      const refs = limited.map(({ user, answer }, index): ReplayTurnRef => {
        const turnId = answer?.turnId ?? user.turnId;
        const turn = turnId ? turns.get(turnId) : undefined;
        const fileIds = turn?.options?.fileIds;
        return {
          index,
          userMessageId: user.id,
          originalMessageId: answer?.id ?? null,
          senderId: turn?.userId ?? conversation.ownerId,
          ...(fileIds && fileIds.length > 0 ? { fileIds } : {}),
        };
      });
      replayLogger(deps.logger, replayId, conversationId, 'loadReplayTurns').debug(
        { turns: refs.length, branch: rows.length },
        'replay turns loaded',
      );
      return refs;
    },
  };
}
