import type { AppError } from '#libs/errors/app-error';
import { ConversationAccess } from './conversation-access';
import type { AccessNeed } from './conversation-permission';
import { createInMemoryDatabase } from './testing/in-memory-database';

/** What a call answers: the caller's permission, or the error code it throws (with its detail). */
async function outcome(call: () => Promise<{ permission: string }>): Promise<string> {
  try {
    return (await call()).permission;
  } catch (error) {
    return `${(error as AppError).code}: ${(error as AppError).detail}`;
  }
}

describe('ConversationAccess', () => {
  function setUp() {
    const memory = createInMemoryDatabase();
    const owner = memory.addUser('owner');
    const reader = memory.addUser('reader');
    const writer = memory.addUser('writer');
    const stranger = memory.addUser('stranger');
    const conversation = memory.addConversation(owner);
    memory.share(conversation, reader, 'read');
    memory.share(conversation, writer, 'write');
    const question = memory.addMessage(conversation, { role: 'user', content: 'question' });
    return {
      memory,
      access: new ConversationAccess(memory.db),
      owner,
      reader,
      writer,
      stranger,
      conversation,
      question,
    };
  }

  it('grants the owner everything, a write sharee read and write, a read sharee read; else 404 or 403', async () => {
    const { access, owner, reader, writer, stranger, conversation } = setUp();
    const needs: AccessNeed[] = ['read', 'write', 'owner'];
    const table: Record<string, string[]> = {};
    for (const [name, principal] of Object.entries({ owner, writer, reader, stranger })) {
      table[name] = await Promise.all(
        needs.map((need) => outcome(() => access.require(principal, conversation.id, need))),
      );
    }
    const notOwner = "forbidden: Only the conversation's owner may do this";
    const readOnly = 'forbidden: This conversation is shared with you read-only';
    const hidden = 'not_found: The conversation was not found';
    expect(table).toEqual({
      owner: ['owner', 'owner', 'owner'],
      writer: ['write', 'write', notOwner],
      reader: ['read', readOnly, notOwner],
      stranger: [hidden, hidden, hidden],
    });
  });

  it('answers a conversation that does not exist exactly like one the caller may not see', async () => {
    const { access, owner, stranger, conversation } = setUp();
    const missing = await outcome(() => access.require(owner, '00000000-0000-4000-8000-ffffffffffff', 'read'));
    const hidden = await outcome(() => access.require(stranger, conversation.id, 'read'));
    expect(missing).toBe(hidden);
    await expect(access.find(stranger, conversation.id)).resolves.toBeUndefined();
  });

  it('finds a message through its conversation: 404 naming the message without access, 403 when short', async () => {
    const { access, owner, reader, stranger, question } = setUp();
    const found = await access.requireMessage(reader, question.id, 'read');
    expect(found).toMatchObject({ permission: 'read', message: { id: question.id, content: 'question' } });
    expect(await outcome(() => access.requireMessage(stranger, question.id, 'read'))).toBe(
      'not_found: The message was not found',
    );
    expect(await outcome(() => access.requireMessage(owner, '00000000-0000-4000-8000-ffffffffffff', 'read'))).toBe(
      'not_found: The message was not found',
    );
    expect(await outcome(() => access.requireMessage(reader, question.id, 'write'))).toBe(
      'forbidden: This conversation is shared with you read-only',
    );
  });

  it('checks anything that lives in a conversation the same way (a turn, say), naming it in the 404', async () => {
    const { access, writer, stranger, conversation } = setUp();
    const turn = { id: 't-1', conversationId: conversation.id };
    await expect(access.requireItem(writer, turn, 'write', 'The turn')).resolves.toMatchObject({
      permission: 'write',
      item: turn,
    });
    expect(await outcome(() => access.requireItem(stranger, turn, 'read', 'The turn'))).toBe(
      'not_found: The turn was not found',
    );
    expect(await outcome(() => access.requireItem(writer, null, 'read', 'The turn'))).toBe(
      'not_found: The turn was not found',
    );
  });

  it("reads through a transaction's repositories, where the conversation row can be locked", async () => {
    const { memory, access, writer, conversation } = setUp();
    await expect(access.require(writer, conversation.id, 'write', { lock: true })).rejects.toThrow(/transaction/);
    const grant = await memory.db.transaction((tx) =>
      access.require(writer, conversation.id, 'write', { tx, lock: true }),
    );
    expect(grant.conversation.id).toBe(conversation.id);
  });

  it('sees a revoked share at once', async () => {
    const { memory, access, reader, conversation } = setUp();
    await memory.db.conversations.deleteShare(conversation.id, reader.userId);
    expect(await outcome(() => access.require(reader, conversation.id, 'read'))).toBe(
      'not_found: The conversation was not found',
    );
  });
});
