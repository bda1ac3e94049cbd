import { hashOpaqueToken } from '#libs/auth/opaque-token';
import { AppError } from '#libs/errors/app-error';
import { CLIENT, identityKit } from './testing/in-memory-identity';

describe('SessionService', () => {
  let kit: ReturnType<typeof identityKit>;
  beforeEach(() => {
    kit = identityKit();
  });

  const ada = () => kit.store.addUser({ id: 'u-ada', email: 'ada@example.com', role: 'admin' });
  const refused = (refreshToken: string) =>
    kit.sessions.rotate(refreshToken, CLIENT).then(
      () => undefined,
      (error: unknown) => error as AppError,
    );

  it('opens a session holding only the hash of its refresh token', async () => {
    const { sessionId, tokens } = await kit.sessions.open(ada(), CLIENT);
    const session = kit.store.sessions.get(sessionId)!;
    expect(session).toMatchObject({ userId: 'u-ada', refreshTokenHash: hashOpaqueToken(tokens.refreshToken) });
    expect(JSON.stringify(session)).not.toContain(tokens.refreshToken);
    expect(session.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await expect(kit.codec.verify(tokens.accessToken)).resolves.toMatchObject({ sub: 'u-ada', sid: sessionId });
  });

  it('rotates: a refresh answers a new pair for the same session and spends the presented token', async () => {
    const { sessionId, tokens } = await kit.sessions.open(ada(), CLIENT);
    const next = await kit.sessions.rotate(tokens.refreshToken, { ...CLIENT, ip: '198.51.100.9' });
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(await kit.codec.verify(next.accessToken)).toMatchObject({ sub: 'u-ada', sid: sessionId, role: 'admin' });
    expect(kit.store.sessions.get(sessionId)).toMatchObject({
      refreshTokenHash: hashOpaqueToken(next.refreshToken),
      ip: '198.51.100.9',
      revokedAt: null,
    });
    expect(kit.store.spentTokens.get(hashOpaqueToken(tokens.refreshToken))).toMatchObject({ sessionId });
    // The chain goes on.
    await expect(kit.sessions.rotate(next.refreshToken, CLIENT)).resolves.toHaveProperty('accessToken');
  });

  it('treats a spent token presented again as theft: the whole session is revoked, in MySQL and Redis, and audited', async () => {
    const { sessionId, tokens } = await kit.sessions.open(ada(), CLIENT);
    const next = await kit.sessions.rotate(tokens.refreshToken, CLIENT);

    expect(await refused(tokens.refreshToken)).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(kit.store.sessions.get(sessionId)).toMatchObject({ revokedReason: 'refresh_reuse' });
    expect(kit.revocations.revoked.has(sessionId)).toBe(true);
    expect(kit.store.audit.at(-1)).toMatchObject({
      action: 'auth.refresh_reuse',
      actorId: 'u-ada',
      targetId: sessionId,
      metadata: { sessionWasActive: true },
    });
    // The thief's copy and the owner's newer token are both dead now.
    expect(await refused(next.refreshToken)).toMatchObject({ code: 'unauthorized' });
    expect(await refused(tokens.refreshToken)).toMatchObject({ code: 'unauthorized' });
    expect(kit.store.audit.at(-1)).toMatchObject({
      action: 'auth.refresh_reuse',
      metadata: { sessionWasActive: false },
    });
  });

  it('refuses an unknown token without auditing anything', async () => {
    await kit.sessions.open(ada(), CLIENT);
    expect(await refused('gcr_not-a-token-we-issued')).toMatchObject({ code: 'unauthorized' });
    expect(kit.store.audit).toEqual([]);
  });

  it('refuses the token of an expired or revoked session, or of a disabled account', async () => {
    const user = ada();
    const expired = await kit.sessions.open(user, CLIENT);
    kit.store.sessions.get(expired.sessionId)!.expiresAt = new Date(Date.now() - 1000);
    expect(await refused(expired.tokens.refreshToken)).toMatchObject({ code: 'unauthorized' });

    const loggedOut = await kit.sessions.open(user, CLIENT);
    await kit.sessions.revoke(loggedOut.sessionId, 'logout');
    expect(await refused(loggedOut.tokens.refreshToken)).toMatchObject({ code: 'unauthorized' });
    expect(kit.revocations.revoked.has(loggedOut.sessionId)).toBe(true);

    const live = await kit.sessions.open(user, CLIENT);
    kit.store.users.get(user.id)!.disabled = true;
    expect(await refused(live.tokens.refreshToken)).toMatchObject({ code: 'unauthorized' });
  });

  it('of two refreshes racing with one token, one wins and the other revokes the session as reuse', async () => {
    const { sessionId, tokens } = await kit.sessions.open(ada(), CLIENT);
    const results = await Promise.allSettled([
      kit.sessions.rotate(tokens.refreshToken, CLIENT),
      kit.sessions.rotate(tokens.refreshToken, CLIENT),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(kit.store.sessions.get(sessionId)).toMatchObject({ revokedReason: 'refresh_reuse' });
  });
});
