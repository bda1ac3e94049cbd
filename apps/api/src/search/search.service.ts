import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '#libs/db/database';
import type { Principal } from '../auth/principal';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATABASE } from '../infra/di-symbols';
import type { SearchMessagesQuery } from './dto/search-messages.query';
import type { MessageSearchPage } from './message-search-result.view';
import { searchTerms, snippetOf, toBooleanQuery } from './message-search-query';

/** Full-text search over the messages of every conversation the caller may read (owned or shared), newest first. */
@Injectable()
export class SearchService {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async messages(principal: Principal, query: SearchMessagesQuery): Promise<MessageSearchPage> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const terms = searchTerms(query.q);
    const against = toBooleanQuery(terms);
    if (against === null) return { items: [] };
    // Access is the same rule as ConversationAccess (owner, or any share), applied in the query so that a share
    // revoked a moment ago stops matching at once.
    const rows = await this.db.messages.searchReadableBy(
      principal.userId,
      against,
      cursor ? { at: new Date(cursor.at), id: cursor.id } : undefined,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        messageId: row.id,
        conversationId: row.conversationId,
        conversationTitle: row.conversationTitle,
        role: row.role,
        snippet: snippetOf(row.content, terms),
        createdAt: row.createdAt.toISOString(),
      })),
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) }
        : {}),
    };
  }
}
