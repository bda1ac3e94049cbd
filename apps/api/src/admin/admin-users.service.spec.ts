import { AuditWriter } from '#libs/audit/audit-writer';
import { AppError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { CLIENT, InMemoryIdentity } from '../auth/testing/in-memory-identity';
import { FakeLoginLockout, FakeSessionRevocations } from '../auth/testing/redis-free-fakes';
import { AdminUsersService } from './admin-users.service';

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('AdminUsersService', () => {
  let store: InMemoryIdentity;
  let lockout: FakeLoginLockout;
  let revocations: FakeSessionRevocations;
  let service: AdminUsersService;
  const admin: Principal = { userId: 'u-admin', sessionId: 's-admin', role: 'admin', scopes: [], kind: 'session' };

  beforeEach(() => {
    store = new InMemoryIdentity();
    lockout = new FakeLoginLockout(2);
    revocations = new FakeSessionRevocations();
    const db = store.database();
    service = new AdminUsersService(db, lockout.asLockout(), revocations.asRevocations(), new AuditWriter(db));
    store.addUser({ id: 'u-admin', email: 'admin@example.com', role: 'admin' });
    store.addUser({ id: 'u-eve', email: 'eve@example.com', role: 'admin' });
    store.addUser({ id: 'u-bob', email: 'bob@example.com' });
  });

  async function openSession(userId: string, id: string): Promise<void> {
    await store.database().sessions.open({
      id,
      userId,
      refreshTokenHash: `hash-${id}`,
      expiresAt: new Date(Date.now() + 3_600_000),
      ip: null,
      userAgent: null,
    });
  }

  describe('update', () => {
    it('cannot demote or disable yourself: 409, and nothing changes', async () => {
      await openSession('u-admin', 's-admin');
      for (const dto of [{ role: 'user' as const }, { disabled: true }, { role: 'user' as const, disabled: true }]) {
        expect(await failure(service.update('u-admin', dto, admin, CLIENT))).toMatchObject({
          code: 'conflict',
          status: 409,
        });
      }
      expect(store.users.get('u-admin')).toMatchObject({ role: 'admin', disabled: false });
      expect(store.sessions.get('s-admin')!.revokedAt).toBeNull();
      expect(store.audit).toEqual([]);
      // Saying what is already true of yourself is no change, not a conflict.
      await expect(service.update('u-admin', { role: 'admin', disabled: false }, admin, CLIENT)).resolves.toMatchObject(
        {
          role: 'admin',
        },
      );
    });

    it('demoting someone ends every live session of theirs at once (MySQL and Redis), audited with the count', async () => {
      await openSession('u-eve', 's-eve-1');
      await openSession('u-eve', 's-eve-2');
      await openSession('u-bob', 's-bob');
      const view = await service.update('u-eve', { role: 'user' }, admin, CLIENT);

      expect(view).toMatchObject({ id: 'u-eve', role: 'user', disabled: false, locked: false });
      expect(store.sessions.get('s-eve-1')).toMatchObject({ revokedReason: 'user_demoted' });
      expect(store.sessions.get('s-eve-2')).toMatchObject({ revokedReason: 'user_demoted' });
      expect(store.sessions.get('s-bob')!.revokedAt).toBeNull();
      expect([...revocations.revoked].sort()).toEqual(['s-eve-1', 's-eve-2']);
      expect(store.audit).toEqual([
        expect.objectContaining({
          action: 'user.role_changed',
          actorId: 'u-admin',
          targetId: 'u-eve',
          metadata: { from: 'admin', to: 'user', revokedSessions: 2 },
          requestId: CLIENT.requestId,
        }),
      ]);
    });

    it('disabling ends their sessions too; enabling and promoting end none', async () => {
      await openSession('u-bob', 's-bob');
      await service.update('u-bob', { disabled: true }, admin, CLIENT);
      expect(store.sessions.get('s-bob')).toMatchObject({ revokedReason: 'user_disabled' });
      expect(store.audit.at(-1)).toMatchObject({ action: 'user.disabled', metadata: { revokedSessions: 1 } });

      await openSession('u-bob', 's-bob-2');
      await service.update('u-bob', { disabled: false, role: 'admin' }, admin, CLIENT);
      expect(store.sessions.get('s-bob-2')!.revokedAt).toBeNull();
      expect(store.audit.slice(-2).map((row) => row.action)).toEqual(['user.role_changed', 'user.enabled']);
      expect(store.users.get('u-bob')).toMatchObject({ role: 'admin', disabled: false });
    });

    it('an empty change is 400 naming (body); an unknown user is 404', async () => {
      expect(await failure(service.update('u-bob', {}, admin, CLIENT))).toMatchObject({
        code: 'validation_failed',
        extra: { errors: [{ field: '(body)' }] },
      });
      expect(await failure(service.update('u-nobody', { disabled: true }, admin, CLIENT))).toMatchObject({
        code: 'not_found',
        status: 404,
      });
    });
  });

  describe('list', () => {
    it('is newest first, filtered by email part, role and lockout state, and pages exactly', async () => {
      for (let i = 0; i < 5; i += 1) store.addUser({ id: `u-${i}`, email: `user${i}@example.org` });
      await lockout.begin('user1@example.org');
      await lockout.begin('user1@example.org'); // the second failure locks
      await lockout.begin('user3@example.org');
      await lockout.begin('user3@example.org');

      const all = await service.list({ limit: 3 });
      expect(all.items.map((user) => user.id)).toEqual(['u-4', 'u-3', 'u-2']);
      const rest = await service.list({ limit: 3, cursor: all.nextCursor! });
      expect(rest.items.map((user) => user.id)).toEqual(['u-1', 'u-0', 'u-bob']);

      const locked = await service.list({ locked: true });
      expect(locked.items.map((user) => [user.id, user.locked])).toEqual([
        ['u-3', true],
        ['u-1', true],
      ]);
      expect((await service.list({ locked: false, email: 'EXAMPLE.ORG' })).items.map((user) => user.id)).toEqual([
        'u-4',
        'u-2',
        'u-0',
      ]);
      expect((await service.list({ role: 'admin' })).items.map((user) => user.id)).toEqual(['u-eve', 'u-admin']);
    });
  });

  it('unlock lifts the lock and is audited either way', async () => {
    await lockout.begin('bob@example.com');
    await lockout.begin('bob@example.com');
    await service.unlock('u-bob', admin, CLIENT);
    expect((await lockout.status('bob@example.com')).locked).toBe(false);
    await service.unlock('u-bob', admin, CLIENT);
    expect(store.audit.map((row) => row.metadata)).toEqual([{ wasLocked: true }, { wasLocked: false }]);
    expect(await failure(service.unlock('u-nobody', admin, CLIENT))).toMatchObject({ code: 'not_found' });
  });
});
