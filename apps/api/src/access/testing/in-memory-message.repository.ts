import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { KeysetPosition } from '#libs/db/repositories/keyset-position';
import type {
  MessageRepository,
  MessageSearchRow,
  NewFeedback,
  NewMessage,
} from '#libs/db/repositories/message.repository';
import { byCreation, isAfter, type MemoryStore, type SomeOf } from './in-memory-store';

/** TEST ONLY: the messages and their feedback, as `MessageRepository` keeps them in MySQL. */
export class InMemoryMessageRepository implements SomeOf<MessageRepository> {
  constructor(private readonly store: MemoryStore) {}

  async findById(id: string): Promise<MessageEntity | null> {
    const message = this.store.state.messages.find((m) => m.id === id);
    return message ? { ...message } : null;
  }

  async findInConversation(id: string, conversationId: string): Promise<MessageEntity | null> {
    const message = await this.findById(id);
    return message?.conversationId === conversationId ? message : null;
  }

  async existsInConversation(id: string, conversationId: string): Promise<boolean> {
    return (await this.findInConversation(id, conversationId)) !== null;
  }

  async loadBranch(conversationId: string, leafId: string): Promise<MessageEntity[]> {
    const branch: MessageEntity[] = [];
    let at = await this.findInConversation(leafId, conversationId);
    while (at) {
      branch.unshift(at);
      at = at.parentId === null ? null : await this.findInConversation(at.parentId, conversationId);
    }
    return branch;
  }

  async listAll(conversationId: string): Promise<MessageEntity[]> {
    return this.store.state.messages
      .filter((m) => m.conversationId === conversationId)
      .sort(byCreation)
      .map((m) => ({ ...m }));
  }

  async listPage(conversationId: string, after: KeysetPosition | undefined, limit: number): Promise<MessageEntity[]> {
    const all = await this.listAll(conversationId);
    return all.filter((m) => after === undefined || isAfter(m.createdAt, m.id, after)).slice(0, limit);
  }

  async insertMany(messages: readonly NewMessage[]): Promise<void> {
    for (const message of messages) {
      if (this.store.state.messages.some((m) => m.id === message.id))
        throw new Error(`Duplicate message ${message.id}`);
      this.store.state.messages.push({ ...message, createdAt: message.createdAt ?? this.store.now() });
    }
  }

  /** `+word` must occur as a word, `+word*` as the start of one (the boolean-mode subset the service produces). */
  async searchReadableBy(
    userId: string,
    booleanQuery: string,
    before: KeysetPosition | undefined,
    limit: number,
  ): Promise<MessageSearchRow[]> {
    const { state } = this.store;
    const required = booleanQuery.split(' ').map((term) => ({
      word: term.replace(/^\+/, '').replace(/\*$/, ''),
      prefix: term.endsWith('*'),
    }));
    const readable = (conversation: ConversationEntity): boolean =>
      conversation.ownerId === userId ||
      state.shares.some((s) => s.conversationId === conversation.id && s.userId === userId);
    return state.messages
      .filter((m) => {
        const words = m.content.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
        return required.every(({ word, prefix }) => words.some((w) => (prefix ? w.startsWith(word) : w === word)));
      })
      .flatMap((m) => {
        const conversation = state.conversations.find((c) => c.id === m.conversationId);
        return conversation && readable(conversation) ? [{ m, conversation }] : [];
      })
      .filter(({ m }) => before === undefined || isAfter(before.at, before.id, { at: m.createdAt, id: m.id }))
      .sort((a, b) => byCreation(b.m, a.m))
      .slice(0, limit)
      .map(({ m, conversation }) => ({
        id: m.id,
        conversationId: m.conversationId,
        conversationTitle: conversation.title,
        role: m.role,
        content: m.content,
        createdAt: m.createdAt,
      }));
  }

  async feedbackOf(userId: string, messageIds: readonly string[]): Promise<MessageFeedbackEntity[]> {
    return this.store.state.feedback
      .filter((f) => f.userId === userId && messageIds.includes(f.messageId))
      .map((f) => ({ ...f }));
  }

  async saveFeedback(feedback: NewFeedback): Promise<{ created: boolean; feedback: MessageFeedbackEntity }> {
    const existing = this.store.state.feedback.find(
      (f) => f.messageId === feedback.messageId && f.userId === feedback.userId,
    );
    const now = this.store.now();
    if (existing) {
      // As MySQL's ON DUPLICATE KEY UPDATE: the update time moves only when something changed.
      const changed = existing.rating !== feedback.rating || existing.comment !== feedback.comment;
      Object.assign(
        existing,
        { rating: feedback.rating, comment: feedback.comment },
        changed ? { updatedAt: now } : {},
      );
      return { created: false, feedback: { ...existing } };
    }
    const row = { ...feedback, createdAt: now, updatedAt: now };
    this.store.state.feedback.push(row);
    return { created: true, feedback: { ...row } };
  }
}
