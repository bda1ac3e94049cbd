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

  /** `partial` (the earlier tool rounds' text and calls, if any) followed by what the stopped model call kept. */
  async function withKept(turnId: string, partial: PartialAnswer | undefined): Promise<PartialAnswer | undefined> {
    const kept = parseKept(await events?.cancelledPartial(turnId));
    if (!kept) return partial;
    if (!partial) return kept;
    return { ...partial, content: partial.content + kept.content, model: kept.model, citations: kept.citations };
  }

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
      /** The model call stopped by the cancel gave no partial (its result lost): use what it kept in Redis. */
      generationLost?: boolean;
    }): Promise<PersistedAssistantMessage | null> {
      const { turn } = args;
      const partial =
        args.partial === undefined || args.generationLost ? await withKept(turn.turnId, args.partial) : args.partial;
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

/**
 * The partial answer in what a stopped model call kept in Redis (a generation output marked cancelled), or undefined
 * when there is none or it is not one (never a failed cancel).
 */
function parseKept(text: string | undefined): PartialAnswer | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<PartialAnswer> | null;
    if (typeof value?.content !== 'string' || typeof value.model !== 'string') return undefined;
    return {
      content: value.content,
      model: value.model,
      citations: Array.isArray(value.citations) ? value.citations : [],
    };
  } catch {
    return undefined;
  }
}
