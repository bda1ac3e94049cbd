import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageRole } from '#libs/db/entities/message.entity';
import type { Principal } from '../auth/principal';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATA_SOURCE } from '../infra/di-symbols';
import type { SearchMessagesQuery } from './dto/search-messages.query';
import type { MessageSearchPage } from './message-search-result.view';
import { searchTerms, snippetOf, toBooleanQuery } from './message-search-query';

interface HitRow {
  id: string;
  conversation_id: string;
  title: string;
  role: MessageRole;
  content: string;
  created_at: Date;
}

/** Full-text search over the messages of every conversation the caller may read (owned or shared), newest first. */
@Injectable()
export class SearchService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async messages(principal: Principal, query: SearchMessagesQuery): Promise<MessageSearchPage> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const terms = searchTerms(query.q);
    const against = toBooleanQuery(terms);
    if (against === null) return { items: [] };
    // Access is the same rule as ConversationAccess (owner, or any share), applied in the query so that a share
    // revoked a moment ago stops matching at once.
    const rows: HitRow[] = await this.db.query(
      `SELECT m.id, m.conversation_id, c.title, m.role, m.content, m.created_at
         FROM messages m
         JOIN conversations c ON c.id = m.conversation_id
        WHERE MATCH (m.content) AGAINST (? IN BOOLEAN MODE)
          AND (c.owner_id = ? OR EXISTS (
                SELECT 1 FROM conversation_shares s WHERE s.conversation_id = c.id AND s.user_id = ?))
          ${cursor ? 'AND (m.created_at < ? OR (m.created_at = ? AND m.id < ?))' : ''}
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT ?`,
      [
        against,
        principal.userId,
        principal.userId,
        ...(cursor ? [new Date(cursor.at), new Date(cursor.at), cursor.id] : []),
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        messageId: row.id,
        conversationId: row.conversation_id,
        conversationTitle: row.title,
        role: row.role,
        snippet: snippetOf(row.content, terms),
        createdAt: new Date(row.created_at).toISOString(),
      })),
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor({ at: new Date(last.created_at).toISOString(), id: last.id }) }
        : {}),
    };
  }
}
