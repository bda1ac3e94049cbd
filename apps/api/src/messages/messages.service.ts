import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';
import { MessageEntity } from '#libs/db/entities/message.entity';
import { NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ConversationAccess, ConversationAccessGrant } from '../access/conversation-access';
import type { AccessNeed } from '../access/conversation-permission';
import type { Principal } from '../auth/principal';
import { DATA_SOURCE } from '../infra/di-symbols';
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
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly access: ConversationAccess,
  ) {}

  /**
   * The turn an edit starts: the new text becomes a sibling of the edited user message (same parent, a new root
   * for the first message) and is answered like any sent message; the current branch moves to it.
   */
  async editRequest(principal: Principal, messageId: string, dto: EditMessageDto): Promise<TurnRequest> {
    const { message } = await this.require(principal, messageId, 'write');
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
    const { message } = await this.require(principal, messageId, 'write');
    const parent =
      message.role === 'assistant' && message.parentId
        ? await this.db
            .getRepository(MessageEntity)
            .findOneBy({ id: message.parentId, conversationId: message.conversationId })
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
    const { message } = await this.require(principal, messageId, 'read');
    if (message.role !== 'assistant') {
      throw new ValidationError([{ field: 'id', message: 'must be an assistant message' }]);
    }
    const repo = this.db.getRepository(MessageFeedbackEntity);
    const result: { affectedRows?: number } = await this.db.query(
      `INSERT INTO message_feedback (message_id, user_id, rating, comment) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE rating = VALUES(rating), comment = VALUES(comment)`,
      [message.id, principal.userId, dto.rating, dto.comment ?? null],
    );
    const saved = await repo.findOneByOrFail({ messageId: message.id, userId: principal.userId });
    return {
      // MySQL counts 1 for an insert, 2 for an update and 0 for an update that changed nothing.
      created: result.affectedRows === 1,
      feedback: {
        messageId: saved.messageId,
        rating: saved.rating,
        comment: saved.comment,
        createdAt: saved.createdAt.toISOString(),
        updatedAt: saved.updatedAt.toISOString(),
      },
    };
  }

  /** The message and the caller's grant on its conversation: 404 without read access, 403 when `need` is more. */
  private async require(
    principal: Principal,
    messageId: string,
    need: AccessNeed,
  ): Promise<ConversationAccessGrant & { message: MessageEntity }> {
    const message = await this.db.getRepository(MessageEntity).findOneBy({ id: messageId });
    const grant = message ? await this.access.find(principal, message.conversationId) : undefined;
    if (!message || !grant) throw new NotFoundError('The message');
    return { ...(await this.access.require(principal, message.conversationId, need)), message };
  }
}
