import type { Database } from '#libs/db/database';
import type { MessageRepository, MessageSearchRow } from '#libs/db/repositories/message.repository';
import { createInMemoryDatabase } from '../access/testing/in-memory-database';
import { encodeCursor } from '../common/cursor';
import { SearchService } from './search.service';

const caller = { userId: 'u-1', sessionId: 's-1', role: 'user' as const, scopes: [], kind: 'session' as const };

/** A SearchService over a stub of the one query it makes, answering `rows` and recording how it was asked. */
function withRows(rows: MessageSearchRow[]) {
  const searchReadableBy = jest.fn<
    ReturnType<MessageRepository['searchReadableBy']>,
    Parameters<MessageRepository['searchReadableBy']>
  >(async (_user, _query, _before, limit) => rows.slice(0, limit));
  const db = { messages: { searchReadableBy } } as unknown as Database;
  return { service: new SearchService(db), searchReadableBy };
}

function row(i: number, content = `the durable workflow number ${i}`): MessageSearchRow {
  return {
    id: `m-${String(i).padStart(3, '0')}`,
    conversationId: 'c-1',
    conversationTitle: 'Notes',
    role: 'assistant',
    content,
    createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, 100 - i)),
  };
}

describe('SearchService', () => {
  it('asks for every word, the last as a prefix, and one row more than the page to know if there is another', async () => {
    const { service, searchReadableBy } = withRows([row(1)]);
    await service.messages(caller, { q: 'Durable WORKF', limit: 5 });
    expect(searchReadableBy).toHaveBeenCalledWith('u-1', '+durable +workf*', undefined, 6);
  });

  it('never passes boolean operators through, and drops short words and stopwords', async () => {
    const { service, searchReadableBy } = withRows([]);
    await service.messages(caller, { q: '-secret +"the" (kubernetes) ab*' });
    expect(searchReadableBy).toHaveBeenCalledWith('u-1', '+secret +kubernetes*', undefined, 21);
  });

  it('finds nothing, without asking the database, when no searchable word is left', async () => {
    const { service, searchReadableBy } = withRows([row(1)]);
    await expect(service.messages(caller, { q: 'is it ab' })).resolves.toEqual({ items: [] });
    expect(searchReadableBy).not.toHaveBeenCalled();
  });

  it('answers hits with a one-line snippet around the first hit, and a cursor that continues after the page', async () => {
    const long = `${'lorem ipsum '.repeat(30)}\nthe durable workflow\n${'dolor sit '.repeat(30)}`;
    const { service, searchReadableBy } = withRows([row(1, long), row(2), row(3)]);
    const page = await service.messages(caller, { q: 'durable', limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.items[0]).toMatchObject({
      messageId: 'm-001',
      conversationId: 'c-1',
      conversationTitle: 'Notes',
      role: 'assistant',
      createdAt: row(1).createdAt.toISOString(),
    });
    expect(page.items[0]!.snippet).toContain('the durable workflow');
    expect(page.items[0]!.snippet).not.toContain('\n');
    expect(page.items[0]!.snippet.length).toBeLessThanOrEqual(162);
    expect(page.nextCursor).toBe(encodeCursor({ at: row(2).createdAt.toISOString(), id: 'm-002' }));

    await service.messages(caller, { q: 'durable', limit: 2, cursor: page.nextCursor });
    expect(searchReadableBy).toHaveBeenLastCalledWith('u-1', '+durable*', { at: row(2).createdAt, id: 'm-002' }, 3);
  });

  it('has no nextCursor on the last page and refuses a cursor it did not hand out', async () => {
    const { service } = withRows([row(1)]);
    await expect(service.messages(caller, { q: 'durable' })).resolves.not.toHaveProperty('nextCursor');
    await expect(service.messages(caller, { q: 'durable', cursor: 'nope' })).rejects.toMatchObject({
      code: 'validation_failed',
      extra: { errors: [{ field: 'cursor' }] },
    });
  });

  it("finds what the caller may read, and another user's message only while it is shared", async () => {
    const memory = createInMemoryDatabase();
    const owner = memory.addUser('owner');
    const other = memory.addUser('other');
    const conversation = memory.addConversation(other, { title: 'Theirs' });
    memory.addMessage(conversation, { role: 'user', content: 'Zanzibarian snorkelling trip' });
    const service = new SearchService(memory.db);
    const snippets = async () =>
      (await service.messages(owner, { q: 'zanzibarian snork' })).items.map((i) => i.snippet);

    expect(await snippets()).toEqual([]);
    memory.share(conversation, owner, 'read');
    expect(await snippets()).toEqual(['Zanzibarian snorkelling trip']);
    await memory.db.conversations.deleteShare(conversation.id, owner.userId);
    expect(await snippets()).toEqual([]);
  });
});
