import { ApplicationFailure } from '@temporalio/activity';
import { objectKeyFor } from '#libs/storage/object-store';
import { createPurging } from './purging.activity';
import { maintenanceKit, silentLogger } from './testing/maintenance-kit';

const DAY = 86_400_000;
const NOW = Date.parse('2030-06-01T00:00:00.000Z');
const ADA = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const F_OLD = '10000000-0000-4000-8000-000000000001';
const F_NEW = '10000000-0000-4000-8000-000000000002';
const F_BOB = '10000000-0000-4000-8000-000000000003';
const F1 = '10000000-0000-4000-8000-000000000004';
const F2 = '10000000-0000-4000-8000-000000000005';

function setup() {
  const kit = maintenanceKit();
  const activities = createPurging({ ...kit, logger: silentLogger });
  /** A file of `userId` uploaded `daysAgo`, with its bytes and chunks. */
  const addFile = (id: string, userId: string, daysAgo: number) => {
    const storageKey = objectKeyFor(userId, id);
    kit.files.seed({ id, userId, status: 'ready', storageKey, createdAt: new Date(NOW - daysAgo * DAY) });
    kit.store.objects.set(storageKey, Buffer.from(`bytes of ${id}`));
    kit.chunkCounts.set(id, 3);
  };
  const addConversation = (id: string, ownerId: string, daysAgo: number) =>
    kit.conversations.set(id, { id, ownerId, updatedAt: new Date(NOW - daysAgo * DAY) });
  return { ...kit, ...activities, addFile, addConversation };
}

const olderThan30 = { kind: 'older_than' as const, cutoff: new Date(NOW - 30 * DAY).toISOString(), days: 30 };

describe('purging activities', () => {
  it('finds what a purge by age removes: files uploaded and conversations last active before the cutoff', async () => {
    const kit = setup();
    kit.addFile(F_OLD, ADA, 45);
    kit.addFile(F_NEW, ADA, 2);
    kit.addConversation('c-old', BOB, 31);
    kit.addConversation('c-new', BOB, 29);
    expect(await kit.nextToPurge({ target: olderThan30, limit: 10 })).toEqual({
      files: [{ fileId: F_OLD, userId: ADA }],
      conversationIds: ['c-old'],
    });
  });

  it('finds everything a user owns, files first, within the limit', async () => {
    const kit = setup();
    kit.addFile(F1, ADA, 1);
    kit.addFile(F2, ADA, 1);
    kit.addFile(F_BOB, BOB, 1);
    kit.addConversation('c1', ADA, 1);
    const target = { kind: 'user' as const, userId: ADA };
    expect(await kit.nextToPurge({ target, limit: 2 })).toEqual({
      files: [
        { fileId: F1, userId: ADA },
        { fileId: F2, userId: ADA },
      ],
      conversationIds: [],
    });
    expect((await kit.nextToPurge({ target, limit: 10 })).conversationIds).toEqual(['c1']);
  });

  it('removes a file whole (bytes, chunks, row) and audits it once; a retry finds it gone', async () => {
    const kit = setup();
    kit.addFile(F_OLD, ADA, 45);
    const args = { fileId: F_OLD, userId: ADA, purgeId: 'p1', requestedBy: 'cli' };
    expect(await kit.purgeFile(args)).toBe(true);
    expect([kit.files.rows.size, kit.store.objects.size, kit.chunkCounts.size]).toEqual([0, 0, 0]);
    expect(await kit.purgeFile(args)).toBe(false);
    expect(kit.auditRows).toEqual([
      expect.objectContaining({
        actorId: null,
        action: 'file.purged',
        targetType: 'file',
        targetId: F_OLD,
        metadata: { purgeId: 'p1', by: 'cli', ownerId: ADA, size: 0 },
      }),
    ]);
  });

  it('removes a conversation and audits it with its owner; a retry finds it gone', async () => {
    const kit = setup();
    kit.addConversation('c-old', BOB, 40);
    const args = { conversationId: 'c-old', purgeId: 'p1', requestedBy: 'cli' };
    expect(await kit.purgeConversation(args)).toBe(true);
    expect(await kit.purgeConversation(args)).toBe(false);
    expect(kit.conversations.size).toBe(0);
    expect(kit.auditRows.map((row) => [row.action, row.targetId, row.metadata])).toEqual([
      ['conversation.purged', 'c-old', { purgeId: 'p1', by: 'cli', ownerId: BOB }],
    ]);
  });

  it('purges an account only when it is disabled, and refuses an enabled one for good (non-retryable)', async () => {
    const kit = setup();
    kit.users.set(ADA, { id: ADA, role: 'user', disabled: false });
    const target = { kind: 'user' as const, userId: ADA };
    const refused = await kit.checkPurgeTarget({ target }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'account_enabled', nonRetryable: true });
    await expect(kit.purgeAccount({ userId: ADA, purgeId: 'p1', requestedBy: 'cli' })).rejects.toMatchObject({
      type: 'account_enabled',
    });
    expect(kit.users.has(ADA)).toBe(true);
    expect(kit.auditRows).toEqual([]);

    kit.users.get(ADA)!.disabled = true;
    await expect(kit.checkPurgeTarget({ target })).resolves.toBeUndefined();
    expect(await kit.purgeAccount({ userId: ADA, purgeId: 'p1', requestedBy: 'cli' })).toBe(true);
    expect(kit.users.has(ADA)).toBe(false);
    expect(await kit.purgeAccount({ userId: ADA, purgeId: 'p1', requestedBy: 'cli' })).toBe(false);
    expect(kit.auditRows.map((row) => [row.action, row.targetId])).toEqual([['user.purged', ADA]]);
  });

  it('lets a purge by age through without looking at accounts', async () => {
    const kit = setup();
    await expect(kit.checkPurgeTarget({ target: olderThan30 })).resolves.toBeUndefined();
  });
});
