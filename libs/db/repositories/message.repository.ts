import { In, type EntityManager } from 'typeorm';
import { MessageEntity } from '../entities/message.entity';

/** Deeper than any real conversation; also stops a parent cycle, should one ever be written. */
const MAX_BRANCH_DEPTH = 10_000;

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
    await this.messages.insert(message);
  }

  /** Inserts the row unless one with its id exists (an answer written under an id chosen in advance): true if new. */
  async insertIfAbsent(message: Partial<MessageEntity> & { id: string }): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(MessageEntity)
      .values(message)
      .orIgnore()
      .execute();
    return (result.raw as { affectedRows?: number }).affectedRows === 1;
  }

  /** Replaces a partial answer kept by a cancel with the full one; a complete answer stays. True if replaced. */
  async replaceCancelled(
    id: string,
    answer: Pick<MessageEntity, 'content' | 'model' | 'citations' | 'usage'>,
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
}
