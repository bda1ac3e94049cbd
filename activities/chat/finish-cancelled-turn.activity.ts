import type {
  ChatTurnInput,
  PartialAnswer,
  PersistedAssistantMessage,
  TurnStep,
} from '#libs/contracts/chat-turn.contract';
import { toMessageView } from '#libs/contracts/message-view';
import { turnEvents } from '#libs/contracts/turn-events';
import { assistantRow } from './assistant-message';
import { type AuditDeps, type ChatActivityContext, turnLogger } from './chat-activity-deps';

export function createFinishCancelledTurn(deps: ChatActivityContext & AuditDeps) {
  const { db, events } = deps;
  return {
    /**
     * Ends a cancelled turn: the partial answer (when the model had written any) is kept as the assistant message
     * marked cancelled and becomes the conversation's current leaf, the turn row says cancelled, one `turn.cancelled`
     * audit row, and the stream ends with `turn.cancelled`. Idempotent: the answer's id and the audit row are keyed by
     * the turn. Without `partial` (runs from before it was passed here, or a run whose model call's result was lost)
     * the partial the stopped call kept in Redis is used, then the message a run kept itself is found.
     */
    async finishCancelledTurn(args: {
      turn: ChatTurnInput;
      steps: TurnStep[];
      partial?: PartialAnswer;
    }): Promise<PersistedAssistantMessage | null> {
      const { turn } = args;
      // A run that lost the partial (its step's result never recorded, then cancelled before it ran again) finds what
      // the stopped call kept in Redis.
      const stored = args.partial ?? (await events?.cancelledPartial(turn.turnId));
      const partial = typeof stored === 'string' ? (JSON.parse(stored) as PartialAnswer) : stored;
      const saved = await db.transaction(async (tx) => {
        // What was produced is kept: the text so far, and the tool calls that ran before the cancel.
        if (partial && (partial.content.length > 0 || (partial.toolCalls?.length ?? 0) > 0)) {
          const { toolCalls, ...answer } = partial;
          await tx.messages.insertIfAbsent(
            assistantRow(turn, { ...answer, status: 'cancelled', usage: null, toolCalls: toolCalls ?? null }),
          );
        }
        await tx.turns.markCancelled(turn.turnId, args.steps);
        const kept = await tx.messages.findById(turn.assistantMessageId);
        if (kept) await tx.conversations.followBranch(turn.conversationId, turn.userMessageId, turn.assistantMessageId);
        await deps.audit.recordOnce(
          {
            actorId: turn.userId,
            action: 'turn.cancelled',
            targetType: 'turn',
            targetId: turn.turnId,
            requestId: turn.requestId,
            metadata: { conversationId: turn.conversationId, partialChars: kept?.content.length ?? 0 },
          },
          tx,
        );
        return kept;
      });
      const message = saved ? toMessageView(saved) : null;
      turnLogger(deps.logger, turn, 'finishCancelledTurn').info({ partial: message !== null }, 'turn cancelled');
      await events?.finish(turn.turnId, [turnEvents.cancelled(turn.turnId, message)]);
      return message;
    },
  };
}
