import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import type { MessageEntity } from '#libs/db/entities/message.entity';

/** The assistant message row of a turn, under the id chosen when the turn was created. */
export function assistantRow(
  turn: ChatTurnInput,
  answer: Pick<MessageEntity, 'content' | 'status' | 'model' | 'citations' | 'usage' | 'toolCalls'>,
): Partial<MessageEntity> & { id: string } {
  return {
    id: turn.assistantMessageId,
    conversationId: turn.conversationId,
    parentId: turn.userMessageId,
    role: 'assistant',
    turnId: turn.turnId,
    ...answer,
  };
}
