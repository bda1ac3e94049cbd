import type {
  ChatTurnInput,
  GenerationOutput,
  PersistedAssistantMessage,
  TurnStep,
} from '#libs/contracts/chat-turn.contract';
import type { ToolCallRecord } from '#libs/contracts/tool-calls';
import { toMessageView } from '#libs/contracts/message-view';
import { turnEvents } from '#libs/contracts/turn-events';
import { persisted, stepRunning, withStep } from '#libs/contracts/turn-steps';
import { assistantRow } from './assistant-message';
import { type AuditDeps, type ChatActivityContext, turnLogger } from './chat-activity-deps';

export function createPersistAssistantMessage(deps: ChatActivityContext & AuditDeps) {
  const { db, events } = deps;
  return {
    /**
     * Writes the answer under the id chosen when the turn was created, so a retried or replayed activity finds it
     * already there and writes nothing twice. Completes the turn, moves the conversation's branch and appends the
     * `turn.completed` audit row in the same transaction.
     */
    async persistAssistantMessage(args: {
      turn: ChatTurnInput;
      generation: GenerationOutput;
      steps: TurnStep[];
      /** The tool calls the answer was made with (a turn with tools). */
      toolCalls?: ToolCallRecord[];
    }): Promise<PersistedAssistantMessage> {
      const { turn, generation } = args;
      // Run again after its worker died between storing the answer and telling Temporal, this step finds the stream
      // ended by the first run: it stores nothing twice, and the sink appends nothing after the terminal event either.
      await events?.append(turn.turnId, turnEvents.step(stepRunning('persistence')));
      const answer = {
        content: generation.content,
        model: generation.model,
        citations: generation.citations ?? [],
        usage: generation.usage ?? null,
        toolCalls: args.toolCalls && args.toolCalls.length > 0 ? args.toolCalls : null,
      };
      const saved = await db.transaction(async (tx) => {
        // A partial kept from an earlier, cancelled attempt is replaced by the full answer; a complete one stays.
        const written =
          (await tx.messages.insertIfAbsent(assistantRow(turn, { ...answer, status: 'complete' }))) ||
          (await tx.messages.replaceCancelled(turn.assistantMessageId, answer));
        // In the answer's transaction: both exist or neither, and a retry that finds the answer already there
        // (nothing written) finds its audit row too.
        if (written) {
          await deps.audit.record(
            {
              actorId: turn.userId,
              action: 'turn.completed',
              targetType: 'turn',
              targetId: turn.turnId,
              requestId: turn.requestId,
              metadata: { conversationId: turn.conversationId, model: generation.model, provider: generation.provider },
            },
            tx,
          );
        }
        await tx.turns.markCompleted(turn.turnId, {
          steps: withStep(args.steps, persisted()),
          model: generation.model,
        });
        // Follow the new answer only when the conversation still shows the branch this turn extends.
        await tx.conversations.followBranch(turn.conversationId, turn.userMessageId, turn.assistantMessageId);
        return tx.messages.findById(turn.assistantMessageId);
      });
      if (!saved) throw new Error(`The answer ${turn.assistantMessageId} vanished right after it was written`);
      turnLogger(deps.logger, turn, 'persistAssistantMessage').info(
        { messageId: saved.id },
        'assistant message persisted',
      );
      const message = toMessageView(saved);
      // Only after the commit: a client that saw `message.completed` finds the message in the database.
      // `finish` appends nothing to a stream that already ended.
      await events?.finish(turn.turnId, [
        turnEvents.step(persisted()),
        ...(message.citations.length > 0 ? [turnEvents.citations(message.citations)] : []),
        turnEvents.completed(message),
      ]);
      return message;
    },
  };
}
