import { ApplicationFailure, Context } from '@temporalio/activity';
import { fitContextWindow } from '#libs/chat/context-window';
import type { ChatTurnInput, ContextMessage, LoadedContext } from '#libs/contracts/chat-turn.contract';
import { TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { contextLoaded, stepRunning } from '#libs/contracts/turn-steps';
import { type ChatActivityContext, type PromptBudget, promptTokenBudget, turnLogger } from './chat-activity-deps';

/** The turn's conversation or message is gone (deleted meanwhile): the turn cannot be answered, retrying won't help. */
export function contextGone(what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} no longer exists`, TURN_FAILURE_TYPES.contextNotFound);
}

export function createLoadContext(deps: ChatActivityContext & PromptBudget) {
  const { db, events } = deps;
  return {
    /** Marks the turn running and reads the branch that ends at the user's message, within the token budget. */
    async loadContext(turn: ChatTurnInput): Promise<LoadedContext> {
      if (events) {
        if (Context.current().info.attempt === 1) {
          await events.append(
            turn.turnId,
            turnEvents.started({
              turnId: turn.turnId,
              conversationId: turn.conversationId,
              userMessageId: turn.userMessageId,
              assistantMessageId: turn.assistantMessageId,
            }),
          );
        }
        await events.append(turn.turnId, turnEvents.step(stepRunning('context')));
      }
      const conversation = await db.conversations.findById(turn.conversationId);
      if (!conversation) throw contextGone(`Conversation ${turn.conversationId}`);
      await db.turns.markRunning(turn.turnId);
      const rows = await db.messages.loadBranch(turn.conversationId, turn.userMessageId);
      if (rows.at(-1)?.id !== turn.userMessageId) throw contextGone(`Message ${turn.userMessageId}`);
      const branch: ContextMessage[] = rows
        .filter((row) => row.status !== 'failed' && row.content.length > 0)
        .map((row) => ({ role: row.role, content: row.content }));
      const window = fitContextWindow(conversation.systemPrompt, branch, promptTokenBudget(deps), deps.tokenCounter);
      const context: LoadedContext = { ...window, model: turn.model ?? conversation.model ?? undefined };
      turnLogger(deps.logger, turn, 'loadContext').debug(
        { messages: window.messages.length, dropped: window.droppedMessages },
        'context loaded',
      );
      await events?.append(turn.turnId, turnEvents.step(contextLoaded(context)));
      return context;
    },
  };
}
