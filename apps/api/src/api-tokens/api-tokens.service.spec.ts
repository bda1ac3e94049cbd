import { AuditWriter } from '#libs/audit/audit-writer';
import { hashOpaqueToken } from '#libs/auth/opaque-token';
import { AppError } from '#libs/errors/app-error';
import type { Logger } from '#libs/logging/logger';
import type { Principal } from '../auth/principal';
import { CLIENT, InMemoryIdentity } from '../auth/testing/in-memory-identity';
import { scopesForRole, type Scope } from '../security/scopes';
import { ApiTokenAuthenticator, LAST_USED_RESOLUTION_MS } from './api-token-authenticator';
import { ApiTokensService } from './api-tokens.service';

const sessionOf = (userId: string, role: 'user' | 'admin'): Principal => ({
  userId,
  sessionId: `s-${userId}`,
  role,
  scopes: scopesForRole(role),
  kind: 'session',
});

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('API tokens', () => {
  let store: InMemoryIdentity;
  let service: ApiTokensService;
  let authenticator: ApiTokenAuthenticator;
  const warnings: unknown[] = [];
  const admin = sessionOf('u-admin', 'admin');
  const ada = sessionOf('u-ada', 'user');

  beforeEach(() => {
    store = new InMemoryIdentity();
    store.addUser({ id: 'u-admin', email: 'admin@example.com', role: 'admin' });
    store.addUser({ id: 'u-ada', email: 'ada@example.com' });
    const db = store.database();
    service = new ApiTokensService(db, new AuditWriter(db));
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    authenticator = new ApiTokenAuthenticator(db, logger);
  });

  const create = (principal: Principal, scopes: Scope[], expiresInDays?: number) =>
    service.create(principal, { name: 'CI bot', scopes, ...(expiresInDays ? { expiresInDays } : {}) }, CLIENT);

  describe('ApiTokensService', () => {
    it('creates a token with the secret shown once and only its hash and prefix stored; audited', async () => {
      const created = await create(ada, ['chat:write', 'chat:read', 'chat:read']);
      expect(created).toMatchObject({ name: 'CI bot', scopes: ['chat:read', 'chat:write'], expiresAt: null });
      expect(created.token).toMatch(/^gct_/);
      expect(created.prefix).toBe(created.token.slice(0, 12));
      const stored = store.apiTokens.get(created.id)!;
      expect(stored.tokenHash).toBe(hashOpaqueToken(created.token));
      expect(JSON.stringify(stored)).not.toContain(created.token);
      expect(store.audit).toEqual([
        expect.objectContaining({
          action: 'token.created',
          actorId: 'u-ada',
          targetId: created.id,
          metadata: { scopes: ['chat:read', 'chat:write'], expiresInDays: null },
        }),
      ]);
      expect((await service.list(ada)).map((token) => token.id)).toEqual([created.id]);
      expect(await service.list(ada)).not.toContainEqual(expect.objectContaining({ token: expect.anything() }));
    });

    it('cannot grant a scope the caller does not hold: 403 forbidden naming it, nothing written', async () => {
      const error = await failure(create(ada, ['chat:read', 'admin']));
      expect(error).toMatchObject({ code: 'forbidden', status: 403 });
      expect(error.detail).toContain('admin');
      expect(store.apiTokens.size).toBe(0);
      expect(store.audit).toEqual([]);
      await expect(create(admin, ['admin'])).resolves.toMatchObject({ scopes: ['admin'] });
    });

    it('lists the caller’s live tokens newest first, not revoked ones nor anyone else’s', async () => {
      const first = await create(ada, ['chat:read']);
      const second = await create(ada, ['files:read'], 30);
      await create(admin, ['chat:read']);
      expect((await service.list(ada)).map((token) => token.id)).toEqual([second.id, first.id]);
      await service.revoke(ada, first.id, CLIENT);
      expect((await service.list(ada)).map((token) => token.id)).toEqual([second.id]);
      expect(store.audit.at(-1)).toMatchObject({ action: 'token.revoked', targetId: first.id });
    });

    it('shows one of the caller’s live tokens without its secret; someone else’s or a revoked one is 404', async () => {
      const mine = await create(ada, ['chat:read'], 30);
      const theirs = await create(admin, ['chat:read']);
      const { token: _secret, ...shown } = mine;
      expect(await service.get(ada, mine.id)).toEqual(shown);
      expect(await failure(service.get(ada, theirs.id))).toMatchObject({ code: 'not_found', status: 404 });
      await service.revoke(ada, mine.id, CLIENT);
      expect(await failure(service.get(ada, mine.id))).toMatchObject({ code: 'not_found' });
    });

    it('answers 404 for revoking someone else’s token, or one already revoked', async () => {
      const theirs = await create(admin, ['chat:read']);
      expect(await failure(service.revoke(ada, theirs.id, CLIENT))).toMatchObject({ code: 'not_found' });
      expect(store.apiTokens.get(theirs.id)!.revokedAt).toBeNull();
      await service.revoke(admin, theirs.id, CLIENT);
      expect(await failure(service.revoke(admin, theirs.id, CLIENT))).toMatchObject({ code: 'not_found' });
    });
  });

  describe('ApiTokenAuthenticator', () => {
    it('turns a secret into a principal with the token’s scopes', async () => {
      const created = await create(ada, ['chat:read', 'files:write']);
      expect(await authenticator.authenticate(created.token)).toEqual({
        userId: 'u-ada',
        sessionId: created.id,
        role: 'user',
        scopes: ['chat:read', 'files:write'],
        kind: 'api_token',
      });
    });

    it('cuts the scopes to what the owner’s current role grants: a demoted admin’s token loses admin at once', async () => {
      const created = await create(admin, ['chat:read', 'admin']);
      expect((await authenticator.authenticate(created.token)).scopes).toEqual(['chat:read', 'admin']);
      store.users.get('u-admin')!.role = 'user';
      expect(await authenticator.authenticate(created.token)).toMatchObject({ role: 'user', scopes: ['chat:read'] });
    });

    it('refuses an unknown or revoked token, and a disabled owner’s, with 401 unauthorized', async () => {
      const created = await create(ada, ['chat:read']);
      expect(await failure(authenticator.authenticate('gct_not-issued-by-us'))).toMatchObject({ code: 'unauthorized' });
      store.users.get('u-ada')!.disabled = true;
      expect(await failure(authenticator.authenticate(created.token))).toMatchObject({ code: 'unauthorized' });
      store.users.get('u-ada')!.disabled = false;
      await service.revoke(ada, created.id, CLIENT);
      expect(await failure(authenticator.authenticate(created.token))).toMatchObject({ code: 'unauthorized' });
    });

    it('refuses an expired token with 401 token_expired', async () => {
      const created = await create(ada, ['chat:read'], 1);
      const later = new Date(Date.now() + 86_400_000 + 1000);
      expect(await failure(authenticator.authenticate(created.token, later))).toMatchObject({
        code: 'token_expired',
        status: 401,
      });
    });

    it('records the last use at most once a minute', async () => {
      const created = await create(ada, ['chat:read']);
      const t0 = new Date('2026-05-01T10:00:00Z');
      await authenticator.authenticate(created.token, t0);
      await authenticator.authenticate(created.token, new Date(t0.getTime() + LAST_USED_RESOLUTION_MS - 1));
      expect(store.apiTokens.get(created.id)!.lastUsedAt).toEqual(t0);
      const later = new Date(t0.getTime() + LAST_USED_RESOLUTION_MS + 1);
      await authenticator.authenticate(created.token, later);
      expect(store.apiTokens.get(created.id)!.lastUsedAt).toEqual(later);
      expect(warnings).toEqual([]);
    });
  });
});
