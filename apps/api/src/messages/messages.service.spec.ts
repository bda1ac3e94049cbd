import { ConversationAccess } from '../access/conversation-access';
import { createInMemoryDatabase } from '../access/testing/in-memory-database';
import { MessagesService } from './messages.service';

describe('MessagesService.rate (feedback)', () => {
  function setUp() {
    const memory = createInMemoryDatabase();
    const owner = memory.addUser('owner');
    const reader = memory.addUser('reader');
    const stranger = memory.addUser('stranger');
    const conversation = memory.addConversation(owner);
    memory.share(conversation, reader, 'read');
    const question = memory.addMessage(conversation, { role: 'user', content: 'q' });
    const answer = memory.addMessage(conversation, { role: 'assistant', content: 'a' });
    const service = new MessagesService(memory.db, new ConversationAccess(memory.db));
    return { memory, service, owner, reader, stranger, question, answer };
  }

  it('creates the first rating (201) and replaces rating and comment after (200)', async () => {
    const { memory, service, owner, answer } = setUp();
    const first = await service.rate(owner, answer.id, { rating: 'up', comment: 'clear' });
    expect(first).toEqual({
      created: true,
      feedback: {
        messageId: answer.id,
        rating: 'up',
        comment: 'clear',
        createdAt: expect.any(String),
        updatedAt: first.feedback.createdAt,
      },
    });

    const second = await service.rate(owner, answer.id, { rating: 'down' });
    expect(second.created).toBe(false);
    // Both replaced: no comment given means none.
    expect(second.feedback).toMatchObject({ rating: 'down', comment: null, createdAt: first.feedback.createdAt });
    expect(second.feedback.updatedAt > first.feedback.updatedAt).toBe(true);
    expect(memory.state().feedback).toHaveLength(1);
  });

  it('keeps one rating per user: a read sharee rates too, beside the owner', async () => {
    const { memory, service, owner, reader, answer } = setUp();
    await service.rate(owner, answer.id, { rating: 'up' });
    const theirs = await service.rate(reader, answer.id, { rating: 'down', comment: 'too long' });
    expect(theirs.created).toBe(true);
    expect(memory.state().feedback.map((f) => [f.userId, f.rating])).toEqual([
      [owner.userId, 'up'],
      [reader.userId, 'down'],
    ]);
  });

  it('refuses a user message (400 naming id) and answers 404 to whoever may not read the conversation', async () => {
    const { memory, service, owner, stranger, question, answer } = setUp();
    await expect(service.rate(owner, question.id, { rating: 'up' })).rejects.toMatchObject({
      code: 'validation_failed',
      extra: { errors: [{ field: 'id', message: 'must be an assistant message' }] },
    });
    await expect(service.rate(stranger, answer.id, { rating: 'up' })).rejects.toMatchObject({
      code: 'not_found',
      detail: 'The message was not found',
    });
    await expect(service.rate(owner, '00000000-0000-4000-8000-ffffffffffff', { rating: 'up' })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(memory.state().feedback).toEqual([]);
  });
});
