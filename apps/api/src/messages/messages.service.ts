import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '#libs/db/database';
import { ValidationError } from '#libs/errors/app-error';
import { ConversationAccess } from '../access/conversation-access';
import type { Principal } from '../auth/principal';
import { DATABASE } from '../infra/di-symbols';
import type { TurnRequest } from '../turns/turn-request';
import type { EditMessageDto } from './dto/edit-message.dto';
import type { MessageFeedbackDto } from './dto/message-feedback.dto';
import type { RegenerateMessageDto } from './dto/regenerate-message.dto';
import type { MessageFeedbackView } from './message-feedback.view';

/**
 * Branching (edit, regenerate) and feedback on single messages. A message is as visible as its conversation:
 * without read access it is 404; branching needs write access (403 for a read share), feedback read access.
 */
@Injectable()
export class MessagesService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly access: ConversationAccess,
  ) {}

  /**
   * The turn an edit starts: the new text becomes a sibling of the edited user message (same parent, a new root
   * for the first message) and is answered like any sent message; the current branch moves to it.
   */
  async editRequest(principal: Principal, messageId: string, dto: EditMessageDto): Promise<TurnRequest> {
    const { message } = await this.access.requireMessage(principal, messageId, 'write');
    if (message.role !== 'user') throw new ValidationError([{ field: 'id', message: 'must be a user message' }]);
    return {
      kind: 'message',
      conversationId: message.conversationId,
      content: dto.content,
      parentMessageId: message.parentId,
      editOf: message.id,
      ...(dto.model !== undefined ? { model: dto.model } : {}),
    };
  }

  /** The turn a regenerate starts: the assistant reply's own user message answered again, without copying it. */
  async regenerateRequest(principal: Principal, messageId: string, dto: RegenerateMessageDto): Promise<TurnRequest> {
    const { message } = await this.access.requireMessage(principal, messageId, 'write');
    const parent =
      message.role === 'assistant' && message.parentId
        ? await this.db.messages.findInConversation(message.parentId, message.conversationId)
        : null;
    if (parent?.role !== 'user') {
      throw new ValidationError([{ field: 'id', message: 'must be an assistant message that answers a user message' }]);
    }
    return {
      kind: 'regenerate',
      conversationId: message.conversationId,
      userMessageId: parent.id,
      ...(dto.model !== undefined ? { model: dto.model } : {}),
    };
  }

  /** One rating per user and message: rating again replaces the rating and the comment. */
  async rate(
    principal: Principal,
    messageId: string,
    dto: MessageFeedbackDto,
  ): Promise<{ created: boolean; feedback: MessageFeedbackView }> {
    const { message } = await this.access.requireMessage(principal, messageId, 'read');
    if (message.role !== 'assistant') {
      throw new ValidationError([{ field: 'id', message: 'must be an assistant message' }]);
    }
    const { created, feedback } = await this.db.messages.saveFeedback({
      messageId: message.id,
      userId: principal.userId,
      rating: dto.rating,
      comment: dto.comment ?? null,
    });
    return {
      created,
      feedback: {
        messageId: feedback.messageId,
        rating: feedback.rating,
        comment: feedback.comment,
        createdAt: feedback.createdAt.toISOString(),
        updatedAt: feedback.updatedAt.toISOString(),
      },
    };
  }
}
