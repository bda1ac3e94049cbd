import { In, type EntityManager } from 'typeorm';
import { MessageFeedbackEntity, type FeedbackRating } from '../entities/message-feedback.entity';
import { MessageEntity, type MessageRole } from '../entities/message.entity';
import { insertAsGiven } from './insert-as-given';
import type { KeysetPosition } from './keyset-position';

/** Deeper than any real conversation; also stops a parent cycle, should one ever be written. */
const MAX_BRANCH_DEPTH = 10_000;
/** Rows per INSERT when many messages are written at once (an import): well under MySQL's packet limit. */
const INSERT_BATCH = 500;

/** A message as it is written; `createdAt` is the server's time unless given (an import keeps the file's). */
export type NewMessage = Omit<MessageEntity, 'createdAt'> & { createdAt?: Date };

export interface NewFeedback {
  messageId: string;
  userId: string;
  rating: FeedbackRating;
  comment: string | null;
}

/** A message that matched a search, with the title of its conversation. */
export interface MessageSearchRow {
  id: string;
  conversationId: string;
  conversationTitle: string;
  role: MessageRole;
  content: string;
  createdAt: Date;
}

/** The messages (every branch of a conversation's tree) and their feedback. */
export class MessageRepository {
  constructor(private readonly manager: EntityManager) {}

  private get messages() {
    return this.manager.getRepository(MessageEntity);
  }

  findById(id: string): Promise<MessageEntity | null> {
    return this.messages.findOneBy({ id });
  }

  /** A message of this conversation, or null (a message id of another conversation is as unknown as a missing one). */
  findInConversation(id: string, conversationId: string, role?: MessageEntity['role']): Promise<MessageEntity | null> {
    return this.messages.findOneBy({ id, conversationId, ...(role ? { role } : {}) });
  }

  existsInConversation(id: string, conversationId: string): Promise<boolean> {
    return this.messages.exists({ where: { id, conversationId } });
  }

  /** The text of a message of this conversation, or undefined when it is gone. */
  async contentOf(id: string, conversationId: string): Promise<string | undefined> {
    const message = await this.messages.findOne({ where: { id, conversationId }, select: { id: true, content: true } });
    return message?.content;
  }

  async insert(message: MessageEntity): Promise<void> {
    await insertAsGiven(this.manager, MessageEntity, message);
  }

  /** Inserts the row unless one with its id exists (an answer written under an id chosen in advance): true if new. */
  async insertIfAbsent(message: Partial<MessageEntity> & { id: string }): Promise<boolean> {
    const result = await insertAsGiven(this.manager, MessageEntity, message, { orIgnore: true });
    return (result.raw as { affectedRows?: number }).affectedRows === 1;
  }

  /** Replaces a partial answer kept by a cancel with the full one; a complete answer stays. True if replaced. */
  async replaceCancelled(
    id: string,
    answer: Pick<MessageEntity, 'content' | 'model' | 'citations' | 'usage' | 'toolCalls'>,
  ): Promise<boolean> {
    const result = await this.messages.update({ id, status: 'cancelled' }, { ...answer, status: 'complete' });
    return (result.affected ?? 0) === 1;
  }

  /**
   * The messages from the root of a conversation's tree down to `leafId`, oldest first: one recursive query walks
   * the parent links, so only the branch is read, not every message of every branch. Empty when the leaf is not a
   * message of that conversation.
   */
  async loadBranch(conversationId: string, leafId: string): Promise<MessageEntity[]> {
    const path: { id: string }[] = await this.manager.query(
      `WITH RECURSIVE branch (id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM messages WHERE id = ? AND conversation_id = ?
         UNION ALL
         SELECT m.id, m.parent_id, b.depth + 1 FROM messages m JOIN branch b ON m.id = b.parent_id
         WHERE m.conversation_id = ? AND b.depth < ?
       )
       SELECT id FROM branch ORDER BY depth DESC`,
      [leafId, conversationId, conversationId, MAX_BRANCH_DEPTH],
    );
    if (path.length === 0) return [];
    const rows = await this.manager.getRepository(MessageEntity).findBy({ id: In(path.map((row) => row.id)) });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return path.flatMap((row) => byId.get(row.id) ?? []);
  }

  /** Every message of every branch of the conversation, oldest first (creation time, then id). */
  listAll(conversationId: string): Promise<MessageEntity[]> {
    return this.messages.find({ where: { conversationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** One page of every message of the conversation, oldest first (creation time, then id), after `after`. */
  listPage(conversationId: string, after: KeysetPosition | undefined, limit: number): Promise<MessageEntity[]> {
    const qb = this.messages
      .createQueryBuilder('m')
      .where('m.conversation_id = :conversationId', { conversationId })
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('m.id', 'ASC')
      .limit(limit);
    if (after) qb.andWhere('(m.created_at > :at OR (m.created_at = :at AND m.id > :id))', after);
    return qb.getMany();
  }

  /** Writes many messages (an import), in batches; in the caller's transaction, so all or none. */
  async insertMany(messages: readonly NewMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += INSERT_BATCH) {
      await this.messages.insert(messages.slice(i, i + INSERT_BATCH));
    }
  }

  /**
   * Messages matching a FULLTEXT boolean query (`ft_messages_content`) in the conversations the user owns or has a
   * share of, newest first (creation time, then id), before `before`. Access is checked in the same query, so a
   * share revoked a moment ago stops matching at once.
   */
  async searchReadableBy(
    userId: string,
    booleanQuery: string,
    before: KeysetPosition | undefined,
    limit: number,
  ): Promise<MessageSearchRow[]> {
    const rows: {
      id: string;
      conversation_id: string;
      title: string;
      role: MessageRole;
      content: string;
      created_at: Date | string;
    }[] = await this.manager.query(
      `SELECT m.id, m.conversation_id, c.title, m.role, m.content, m.created_at
         FROM messages m
         JOIN conversations c ON c.id = m.conversation_id
        WHERE MATCH (m.content) AGAINST (? IN BOOLEAN MODE)
          AND (c.owner_id = ? OR EXISTS (
                SELECT 1 FROM conversation_shares s WHERE s.conversation_id = c.id AND s.user_id = ?))
          ${before ? 'AND (m.created_at < ? OR (m.created_at = ? AND m.id < ?))' : ''}
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT ?`,
      [booleanQuery, userId, userId, ...(before ? [before.at, before.at, before.id] : []), limit],
    );
    return rows.map((row) => ({
      id: row.id,
      conversationId: row.conversation_id,
      conversationTitle: row.title,
      role: row.role,
      content: row.content,
      createdAt: new Date(row.created_at),
    }));
  }

  /** The user's own feedback on these messages. */
  feedbackOf(userId: string, messageIds: readonly string[]): Promise<MessageFeedbackEntity[]> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return this.manager.getRepository(MessageFeedbackEntity).findBy({ userId, messageId: In([...messageIds]) });
  }

  /**
   * The user's one rating of the message: the first is created, a later one replaces rating and comment. Returns the
   * feedback as stored and whether it was created.
   */
  async saveFeedback(feedback: NewFeedback): Promise<{ created: boolean; feedback: MessageFeedbackEntity }> {
    const result: { affectedRows?: number } = await this.manager.query(
      `INSERT INTO message_feedback (message_id, user_id, rating, comment) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE rating = VALUES(rating), comment = VALUES(comment)`,
      [feedback.messageId, feedback.userId, feedback.rating, feedback.comment],
    );
    const saved = await this.manager
      .getRepository(MessageFeedbackEntity)
      .findOneByOrFail({ messageId: feedback.messageId, userId: feedback.userId });
    // MySQL counts 1 for an insert, 2 for an update and 0 for an update that changed nothing.
    return { created: result.affectedRows === 1, feedback: saved };
  }
}
