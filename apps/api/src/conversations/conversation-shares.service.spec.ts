import { AuditWriter } from '#libs/audit/audit-writer';
import { ConversationAccess } from '../access/conversation-access';
import { createInMemoryDatabase } from '../access/testing/in-memory-database';
import type { ClientInfo } from '../common/client-info';
import { ConversationSharesService } from './conversation-shares.service';

const client: ClientInfo = { ip: null, userAgent: null, requestId: 'req-1' };

describe('ConversationSharesService', () => {
  function setUp() {
    const memory = createInMemoryDatabase();
    const owner = memory.addUser('owner');
    const grace = memory.addUser('grace');
    const alan = memory.addUser('alan');
    const conversation = memory.addConversation(owner);
    const shares = new ConversationSharesService(
      memory.db,
      new AuditWriter(memory.db),
      new ConversationAccess(memory.db),
    );
    return { memory, shares, owner, grace, alan, conversation };
  }

  it('shares by email, and sharing again changes the permission (audited with the previous one)', async () => {
    const { memory, shares, owner, grace, conversation } = setUp();
    const first = await shares.share(owner, conversation.id, { email: grace.email, permission: 'read' }, client);
    expect(first).toMatchObject({ userId: grace.userId, email: grace.email, displayName: 'grace', permission: 'read' });
    const again = await shares.share(owner, conversation.id, { email: grace.email, permission: 'write' }, client);
    expect(again).toMatchObject({ permission: 'write', createdAt: first.createdAt });
    expect((await shares.list(owner, conversation.id)).map((s) => [s.email, s.permission])).toEqual([
      [grace.email, 'write'],
    ]);
    expect(memory.state().audit.map((a) => a.metadata)).toEqual([
      { userId: grace.userId, permission: 'read', previous: null },
      { userId: grace.userId, permission: 'write', previous: 'read' },
    ]);
  });

  it('refuses an unknown email (404), the owner themselves (400 on email) and a sharee sharing on (403)', async () => {
    const { memory, shares, owner, grace, conversation } = setUp();
    await expect(
      shares.share(owner, conversation.id, { email: 'nobody@example.com', permission: 'read' }, client),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      shares.share(owner, conversation.id, { email: owner.email, permission: 'read' }, client),
    ).rejects.toMatchObject({ code: 'validation_failed', extra: { errors: [{ field: 'email' }] } });
    memory.share(conversation, grace, 'write');
    await expect(
      shares.share(grace, conversation.id, { email: 'alan@example.com', permission: 'read' }, client),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(shares.list(grace, conversation.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(memory.state().audit).toEqual([]);
  });

  it("lets a sharee leave but not remove someone else's share; the owner removes anyone's", async () => {
    const { memory, shares, owner, grace, alan, conversation } = setUp();
    memory.share(conversation, grace, 'read');
    memory.share(conversation, alan, 'write');
    await expect(shares.revoke(grace, conversation.id, alan.userId, client)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await shares.revoke(grace, conversation.id, grace.userId, client);
    await shares.revoke(owner, conversation.id, alan.userId, client);
    await expect(shares.revoke(owner, conversation.id, alan.userId, client)).rejects.toMatchObject({
      code: 'not_found',
      detail: 'The share was not found',
    });
    expect(memory.state().shares).toEqual([]);
    expect(memory.state().audit.map((a) => [a.action, a.actorId])).toEqual([
      ['conversation.unshared', grace.userId],
      ['conversation.unshared', owner.userId],
    ]);
  });
});
