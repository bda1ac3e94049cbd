import { randomUUID } from 'node:crypto';
import { turnWorkflowId } from '../contracts/chat-turn.contract';
import type { Repositories } from '../db/database';
import type { ConversationEntity } from '../db/entities/conversation.entity';
import type { MessageEntity } from '../db/entities/message.entity';
import type { TurnEntity, TurnOptions } from '../db/entities/turn.entity';

export const DEFAULT_CONVERSATION_TITLE = 'New conversation';
const TITLE_CHARS = 80;

export interface NewTurn {
  /** Read under a row lock by the caller: turns of one conversation are created one at a time. */
  conversation: ConversationEntity;
  userId: string;
  parentId: string | null;
  content: string;
  model: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  requestId: string;
  /** Web search / file selection asked for with the message. */
  options?: TurnOptions | null;
}

/**
 * The rows a chat turn starts with, written inside the caller's transaction: the user's message, the queued turn
 * (its assistant message id chosen now, so persisting the answer later is idempotent) and the conversation's branch
 * moved to the new message — titled after it when it is the first message of an untitled conversation.
 */
export async function insertTurnRows(
  tx: Repositories,
  input: NewTurn,
): Promise<{ turn: TurnEntity; userMessage: MessageEntity }> {
  const { conversation } = input;
  const turnId = randomUUID();
  const now = new Date();
  const userMessage: MessageEntity = {
    id: randomUUID(),
    conversationId: conversation.id,
    parentId: input.parentId,
    role: 'user',
    content: input.content,
    status: 'complete',
    model: null,
    turnId,
    citations: null,
    usage: null,
    createdAt: now,
  };
  await tx.messages.insert(userMessage);
  const turn = await insertQueuedTurn(tx, turnId, userMessage.id, input, now);
  const retitle = conversation.title === DEFAULT_CONVERSATION_TITLE && input.parentId === null;
  await tx.conversations.showMessage(conversation.id, userMessage.id, retitle ? titleFrom(input.content) : undefined);
  return { turn, userMessage };
}

export interface RegeneratedTurn extends Omit<NewTurn, 'parentId' | 'content'> {
  /** The existing user message the new turn answers again. */
  userMessage: MessageEntity;
}

/**
 * A new turn answering an existing user message again (regenerate): no new user message; the conversation's branch
 * moves to that message, and the turn's answer becomes a sibling of the earlier replies.
 */
export async function insertRegeneratedTurnRows(tx: Repositories, input: RegeneratedTurn): Promise<TurnEntity> {
  const turn = await insertQueuedTurn(tx, randomUUID(), input.userMessage.id, input, new Date());
  await tx.conversations.showMessage(input.conversation.id, input.userMessage.id);
  return turn;
}

/** The queued turn, its assistant message id chosen now so persisting the answer later is idempotent. */
async function insertQueuedTurn(
  tx: Repositories,
  turnId: string,
  userMessageId: string,
  input: Omit<NewTurn, 'parentId' | 'content'>,
  now: Date,
): Promise<TurnEntity> {
  const turn: TurnEntity = {
    id: turnId,
    conversationId: input.conversation.id,
    userId: input.userId,
    userMessageId,
    assistantMessageId: randomUUID(),
    status: 'queued',
    workflowId: turnWorkflowId(turnId),
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
    requestId: input.requestId,
    model: input.model,
    options: input.options ?? null,
    steps: null,
    errorCode: null,
    errorDetail: null,
    completedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await tx.turns.insert(turn);
  return turn;
}

export function titleFrom(content: string): string {
  const line = content.trim().replace(/\s+/g, ' ');
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1)}…`;
}
