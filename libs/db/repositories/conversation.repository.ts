import type { EntityManager } from 'typeorm';
import { ConversationShareEntity } from '../entities/conversation-share.entity';
import { ConversationEntity } from '../entities/conversation.entity';

/** Conversations and their shares. */
export class ConversationRepository {
  constructor(private readonly manager: EntityManager) {}

  private get conversations() {
    return this.manager.getRepository(ConversationEntity);
  }

  /** With `lock`, the row stays locked (FOR UPDATE) until the transaction ends. */
  findById(id: string, options: { lock?: boolean } = {}): Promise<ConversationEntity | null> {
    return this.conversations.findOne({
      where: { id },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  findShare(conversationId: string, userId: string): Promise<ConversationShareEntity | null> {
    return this.manager.getRepository(ConversationShareEntity).findOneBy({ conversationId, userId });
  }

  /** Shows `messageId` as the end of the current branch (and retitles the conversation when `title` is given). */
  async showMessage(id: string, messageId: string, title?: string): Promise<void> {
    await this.conversations.update({ id }, { currentMessageId: messageId, ...(title !== undefined ? { title } : {}) });
  }

  /**
   * Moves the current branch on to `toMessageId` only if it still ends at `fromMessageId`: a turn's answer is followed
   * unless the user switched branches meanwhile.
   */
  async followBranch(id: string, fromMessageId: string, toMessageId: string): Promise<void> {
    await this.conversations.update({ id, currentMessageId: fromMessageId }, { currentMessageId: toMessageId });
  }
}
