import { In, type EntityManager } from 'typeorm';
import { MessageEntity } from '../entities/message.entity';

/** Deeper than any real conversation; also stops a parent cycle, should one ever be written. */
const MAX_BRANCH_DEPTH = 10_000;

/** The messages (every branch of a conversation's tree) and their feedback. */
export class MessageRepository {
  constructor(private readonly manager: EntityManager) {}

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
