import { ApplicationFailure, Context } from '@temporalio/activity';
import { fitContextWindow } from '#libs/chat/context-window';
import type { ChatTurnInput, ContextMessage, LoadedContext } from '#libs/contracts/chat-turn.contract';
import { TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import type { ReplayContextRequest } from '#libs/contracts/replay.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { contextLoaded, stepRunning } from '#libs/contracts/turn-steps';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import {
  type ChatActivityContext,
  isReplayStep,
  type PromptBudget,
  promptTokenBudget,
  stepLogger,
} from './chat-activity-deps';

/** The turn's conversation or message is gone (deleted meanwhile): the turn cannot be answered, retrying won't help. */
export function contextGone(what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} no longer exists`, TURN_FAILURE_TYPES.contextNotFound);
}

/** The messages of a branch the model sees: failed and empty ones (a cancel before the first token) are left out. */
function visible(rows: readonly MessageEntity[]): ContextMessage[] {
  return rows
    .filter((row) => row.status !== 'failed' && row.content.length > 0)
    .map((row) => ({ role: row.role, content: row.content }));
}

export function createLoadContext(deps: ChatActivityContext & PromptBudget) {
  const { db, events } = deps;

  /** The shared step: the system prompt and the newest history that fit the token budget, for this model. */
  const contextOf = (systemPrompt: string | null, history: ContextMessage[], model: string | undefined) => {
    const window = fitContextWindow(systemPrompt, history, promptTokenBudget(deps), deps.tokenCounter);
    return { ...window, model } satisfies LoadedContext;
  };

  const conversationOf = async (conversationId: string) => {
    const conversation = await db.conversations.findById(conversationId);
    if (!conversation) throw contextGone(`Conversation ${conversationId}`);
    return conversation;
  };

  /** The branch from the root of the conversation down to `userMessageId` (which must end it). */
  const branchTo = async (conversationId: string, userMessageId: string) => {
    const rows = await db.messages.loadBranch(conversationId, userMessageId);
    if (rows.at(-1)?.id !== userMessageId) throw contextGone(`Message ${userMessageId}`);
    return rows;
  };

  /**
   * Marks the turn running and reads the branch that ends at the user's message, with its live events. The reads, the
   * update and the opening events go side by side: each is a round trip of its own, and none needs another's answer.
   */
  const turnContext = async (turn: ChatTurnInput): Promise<LoadedContext> => {
    deps.priority?.live();
    const opening = [turnEvents.step(stepRunning('context'))];
    if (Context.current().info.attempt === 1) {
      opening.unshift(
        turnEvents.started({
          turnId: turn.turnId,
          conversationId: turn.conversationId,
          userMessageId: turn.userMessageId,
          assistantMessageId: turn.assistantMessageId,
        }),
      );
    }
    const [conversation, rows] = await Promise.all([
      conversationOf(turn.conversationId),
      branchTo(turn.conversationId, turn.userMessageId),
      db.turns.markRunning(turn.turnId),
      events?.appendAll(turn.turnId, opening),
    ]);
    const context = contextOf(conversation.systemPrompt, visible(rows), turn.model ?? conversation.model ?? undefined);
    stepLogger(deps.logger, turn, 'loadContext').debug(
      { messages: context.messages.length, dropped: context.droppedMessages },
      'context loaded',
    );
    await events?.append(turn.turnId, turnEvents.step(contextLoaded(context)));
    return context;
  };

  /**
   * A replayed turn's history: the original branch up to the user's message (`pinned`), or the branch's user messages
   * each followed by this arm's own stored answer to it (`trajectory`). Reads only; no turn row, no events.
   */
  const replayContext = async (request: ReplayContextRequest): Promise<LoadedContext> => {
    const { replay } = request;
    const conversation = await conversationOf(replay.conversationId);
    const rows = await branchTo(replay.conversationId, request.userMessageId);
    let history: ContextMessage[];
    if (request.history === 'pinned') {
      history = visible(rows);
    } else {
      const users = rows.filter((row) => row.role === 'user');
      const answers = await db.replays.armAnswers(
        replay.replayId,
        replay.conversationId,
        replay.armIndex,
        users.length - 1,
      );
      const answerOf = new Map(
        answers.filter((a) => a.status === 'complete' && a.content.length > 0).map((a) => [a.turnIndex, a.content]),
      );
      history = users.flatMap((user, index): ContextMessage[] => {
        const answer = answerOf.get(index);
        return [
          { role: 'user', content: user.content },
          ...(answer !== undefined && index < users.length - 1
            ? [{ role: 'assistant' as const, content: answer }]
            : []),
        ];
      });
    }
    const systemPrompt = request.systemPrompt === undefined ? conversation.systemPrompt : request.systemPrompt;
    const context = contextOf(systemPrompt, history, request.model);
    stepLogger(deps.logger, request, 'loadContext').debug(
      { mode: request.history, messages: context.messages.length, dropped: context.droppedMessages },
      'replay context loaded',
    );
    return context;
  };

  return {
    /**
     * The history a turn's answer is generated from, within the token budget. A live turn (its `ChatTurnInput`): marks
     * the turn running and reads the branch that ends at the user's message. A replayed turn (`replay` in the input):
     * the original or the arm's own history, with the arm's model and system prompt.
     */
    async loadContext(input: ChatTurnInput | ReplayContextRequest): Promise<LoadedContext> {
      return isReplayStep(input) ? replayContext(input) : turnContext(input);
    },
  };
}
