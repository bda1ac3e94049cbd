import { SECURITY_OPTIONS, SecurityOptions, securityOptionsFrom } from '../apps/api/src/security/security.options';
import { auditRows, Harness, signUp, startHarness } from './support/harness';

/**
 * Lockout, rate limits, refresh-token reuse, password change and logout over HTTP, against real MySQL and Redis.
 * Requests name their client with X-Forwarded-For (the API trusts the loopback proxy), so each test has its own
 * address and the per-address auth limit of one test does not leak into another.
 */
describe('auth security, end to end (real MySQL, Redis)', () => {
  let h: Harness;
  let options: SecurityOptions;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let ipSeq = 0;
  const nextIp = () => `198.51.100.${++ipSeq}`;

  /** The options the whole file runs with: the production defaults, but room for the many sign-ups it does. */
  function resetOptions(): void {
    const fresh = securityOptionsFrom(h.config.security);
    Object.assign(options.rateLimits.auth, fresh.rateLimits.auth);
    Object.assign(options.rateLimits.chat, fresh.rateLimits.chat);
    Object.assign(options.lockout, fresh.lockout);
  }

  beforeAll(async () => {
    h = await startHarness('authsec', { worker: false, fakeLlm: false, env: { RATE_LIMIT_AUTH_MAX: '10000' } });
    // The live options object the API reads on every request; tests shorten windows through it.
    options = h.app.get<symbol, SecurityOptions>(SECURITY_OPTIONS);
    resetOptions();
    admin = await signUp(h, 'admin'); // the first account of the installation is its admin
  });
  afterAll(async () => {
    if (!h) return;
    await h.close();
  });
  afterEach(() => resetOptions());

  const login = (email: string, password: string, ip: string) =>
    h.http.post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });
  const me = (accessToken: string) => h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${accessToken}`);
  const refresh = (refreshToken: string, ip = '192.0.2.200') =>
    h.http.post('/api/v1/auth/refresh').set('X-Forwarded-For', ip).send({ refreshToken });
  const unlock = (userId: string, auth: string) =>
    h.http.post(`/api/v1/admin/users/${userId}/unlock`).set('Authorization', auth);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function failLogins(email: string, times: number, ip: string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i += 1) statuses.push((await login(email, 'not the password at all', ip)).status);
    return statuses;
  }

  describe('lockout', () => {
    it('locks after 5 failures: 423 with Retry-After even for the right password, until an admin unlocks', async () => {
      const victim = await signUp(h, 'victim');
      const ip = nextIp();
      expect(await failLogins(victim.email, 5, ip)).toEqual([401, 401, 401, 401, 401]);

      const locked = await login(victim.email, 'not the password at all', ip);
      expect(locked.status).toBe(423);
      expect(locked.headers['content-type']).toContain('application/problem+json');
      expect(locked.body).toMatchObject({ status: 423, code: 'account_locked' });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(899);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);

      // From another address and with the right password: still locked.
      const rightPassword = await login(victim.email, victim.password, nextIp());
      expect(rightPassword.status).toBe(423);
      expect(rightPassword.body.code).toBe('account_locked');
      expect(await auditRows(h, 'auth.locked', victim.userId)).toEqual([
        { actorId: null, metadata: { level: 1, lockSeconds: 900 } },
      ]);

      // Only an admin may unlock: the victim's own token is refused with 403.
      const selfUnlock = await unlock(victim.userId, victim.auth);
      expect(selfUnlock.status).toBe(403);
      expect(selfUnlock.body.code).toBe('forbidden');
      expect((await login(victim.email, victim.password, nextIp())).status).toBe(423);

      expect((await unlock(victim.userId, admin.auth)).status).toBe(204);
      expect(await auditRows(h, 'auth.unlocked', victim.userId)).toEqual([
        { actorId: admin.userId, metadata: { wasLocked: true } },
      ]);
      const after = await login(victim.email, victim.password, ip);
      expect(after.status).toBe(200);
      expect(after.body.accessToken).toMatch(/^v4\.local\./);
    });

    it('answers an unknown email exactly like a known one, lock included', async () => {
      const known = await signUp(h, 'known');
      const unknownEmail = `nobody.${Date.now()}@example.com`;
      const knownStatuses = await failLogins(known.email, 6, nextIp());
      const unknownStatuses = await failLogins(unknownEmail, 6, nextIp());
      expect(unknownStatuses).toEqual(knownStatuses);
      expect(unknownStatuses).toEqual([401, 401, 401, 401, 401, 423]);

      const a = await login(known.email, 'another wrong one', nextIp());
      const b = await login(unknownEmail, 'another wrong one', nextIp());
      const shape = (res: typeof a) => ({
        status: res.status,
        retryAfter: res.headers['retry-after'],
        body: { ...res.body, requestId: undefined },
      });
      expect(shape(b)).toEqual(shape(a));
    });

    it('forgets the failures on a successful login', async () => {
      const user = await signUp(h, 'forgetful');
      const ip = nextIp();
      expect(await failLogins(user.email, 4, ip)).toEqual([401, 401, 401, 401]);
      expect((await login(user.email, user.password, ip)).status).toBe(200);
      expect(await failLogins(user.email, 4, ip)).toEqual([401, 401, 401, 401]);
      expect((await login(user.email, user.password, ip)).status).toBe(200);
    });

    it('does not let a look-alike spelling of the address log in or dodge the lock', async () => {
      const user = await signUp(h, 'lookalike');
      const [local, domain] = user.email.split('@') as [string, string];
      const lookalike = `${local.replace('o', 'ó')}@${domain}`;
      expect((await login(lookalike, user.password, nextIp())).status).toBe(401);
      // Upper case is the same address (emails are compared lower-cased).
      expect((await login(user.email.toUpperCase(), user.password, nextIp())).status).toBe(200);
    });

    it('doubles the lock on each repeat, up to the cap', async () => {
      // With the production durations: 15 minutes, then (an admin unlock keeps the escalation level) 30.
      const user = await signUp(h, 'repeat');
      await failLogins(user.email, 5, nextIp());
      const first = await login(user.email, user.password, nextIp());
      expect(first.status).toBe(423);
      expect(Number(first.headers['retry-after'])).toBeGreaterThanOrEqual(899);
      expect((await unlock(user.userId, admin.auth)).status).toBe(204);
      await failLogins(user.email, 5, nextIp());
      const second = await login(user.email, user.password, nextIp());
      expect(second.status).toBe(423);
      expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1799);
      expect(Number(second.headers['retry-after'])).toBeLessThanOrEqual(1800);

      // Short durations, to watch locks expire by themselves: 1 s, then 2 s, then still 2 s (the cap).
      Object.assign(options.lockout, { baseLockSeconds: 1, maxLockSeconds: 2 });
      const quick = await signUp(h, 'quick');
      const retryAfters: string[] = [];
      for (let round = 0; round < 3; round += 1) {
        await failLogins(quick.email, 5, nextIp());
        const res = await login(quick.email, quick.password, nextIp());
        expect(res.status).toBe(423);
        retryAfters.push(res.headers['retry-after'] as string);
        await sleep(Number(res.headers['retry-after']) * 1000 + 150);
      }
      expect(retryAfters).toEqual(['1', '2', '2']);
      expect((await login(quick.email, quick.password, nextIp())).status).toBe(200);
      const locks = await auditRows(h, 'auth.locked', quick.userId);
      expect(locks.map((row) => row.metadata)).toEqual([
        { level: 1, lockSeconds: 1 },
        { level: 2, lockSeconds: 2 },
        { level: 3, lockSeconds: 2 },
      ]);
    });

    it('lets at most 5 of a burst of parallel guesses through before locking', async () => {
      const user = await signUp(h, 'burst');
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () => login(user.email, 'parallel wrong guess', nextIp()).then((r) => r.status)),
      );
      expect(statuses.filter((status) => status === 401)).toHaveLength(5);
      expect(statuses.filter((status) => status === 423)).toHaveLength(7);
    });
  });

  describe('admin unlock route', () => {
    it('needs a token, the admin role and an existing user', async () => {
      const someone = await signUp(h, 'someone');
      expect((await h.http.post(`/api/v1/admin/users/${someone.userId}/unlock`)).status).toBe(401);
      const notFound = await unlock('00000000-0000-4000-8000-000000000000', admin.auth);
      expect([notFound.status, notFound.body.code]).toEqual([404, 'not_found']);
      const badId = await unlock('not-a-uuid', admin.auth);
      expect([badId.status, badId.body.code]).toEqual([400, 'validation_failed']);
      const unlocked = await unlock(someone.userId, admin.auth);
      expect(unlocked.status).toBe(204);
      expect(await auditRows(h, 'auth.unlocked', someone.userId)).toEqual([
        { actorId: admin.userId, metadata: { wasLocked: false } },
      ]);
    });

    it('stops accepting an admin whose role was taken away, even with a live token', async () => {
      const second = await signUp(h, 'second');
      await h.db.query("UPDATE users SET role = 'admin' WHERE id = ?", [second.userId]);
      const relog = await login(second.email, second.password, nextIp());
      const adminAuth = `Bearer ${relog.body.accessToken}`;
      expect((await unlock(second.userId, adminAuth)).status).toBe(204);
      await h.db.query("UPDATE users SET role = 'user' WHERE id = ?", [second.userId]);
      const refused = await unlock(second.userId, adminAuth);
      expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);
    });
  });

  describe('rate limits', () => {
    it('limits auth routes per client address: 429 with Retry-After and RateLimit headers, then recovers', async () => {
      const user = await signUp(h, 'limited');
      Object.assign(options.rateLimits.auth, { limit: 3, windowSeconds: 1 });
      const ip = '203.0.113.77';
      const bogus = `gcr_${'x'.repeat(43)}`;
      const allowed = [await refresh(bogus, ip), await refresh(bogus, ip), await refresh(bogus, ip)];
      expect(allowed.map((res) => res.status)).toEqual([401, 401, 401]);
      expect(allowed.map((res) => res.headers['ratelimit-remaining'])).toEqual(['2', '1', '0']);
      expect(allowed[0]!.headers['ratelimit-limit']).toBe('3');

      const limited = await refresh(bogus, ip);
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(limited.headers).toMatchObject({
        'retry-after': '1',
        'ratelimit-limit': '3',
        'ratelimit-remaining': '0',
        'ratelimit-reset': '1',
        'ratelimit-policy': '3;w=1',
      });
      // Logins are limited too, before any password is looked at.
      expect((await login(user.email, user.password, ip)).status).toBe(429);
      // Another address has its own allowance.
      expect((await refresh(bogus, '203.0.113.78')).status).toBe(401);

      await sleep(Number(limited.headers['retry-after']) * 1000 + 150);
      const recovered = await login(user.email, user.password, ip);
      expect(recovered.status).toBe(200);
      expect(recovered.headers['ratelimit-remaining']).toBe('2');
    });

    it('counts an IPv6 client by its /64', async () => {
      Object.assign(options.rateLimits.auth, { limit: 2, windowSeconds: 5 });
      const bogus = `gcr_${'y'.repeat(43)}`;
      expect((await refresh(bogus, '2001:db8:77:1::1')).status).toBe(401);
      expect((await refresh(bogus, '2001:db8:77:1:ffff::2')).status).toBe(401);
      expect((await refresh(bogus, '2001:db8:77:1::3')).status).toBe(429);
      expect((await refresh(bogus, '2001:db8:77:2::1')).status).toBe(401);
    });

    it('limits sending chat messages per user, whatever the address', async () => {
      Object.assign(options.rateLimits.chat, { limit: 2, windowSeconds: 2 });
      const alice = await signUp(h, 'alice');
      const bob = await signUp(h, 'bob');
      const conversation = await h.http.post('/api/v1/conversations').set('Authorization', alice.auth).send({});
      const path = `/api/v1/conversations/${conversation.body.id}/messages`;
      // Invalid bodies are refused after the limit is counted, so no turn has to run.
      const send = (auth: string, ip: string) =>
        h.http.post(path).set('Authorization', auth).set('X-Forwarded-For', ip).send({ nonsense: true });
      const first = await send(alice.auth, nextIp());
      expect(first.status).toBe(400);
      expect(first.headers['ratelimit-remaining']).toBe('1');
      expect((await send(alice.auth, nextIp())).status).toBe(400);
      const limited = await send(alice.auth, nextIp());
      expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await send(bob.auth, nextIp())).status).not.toBe(429);
    });
  });

  describe('sessions', () => {
    it('rotates refresh tokens; reusing a spent one revokes the session and its access tokens at once', async () => {
      const user = await signUp(h, 'rotator');
      const other = await login(user.email, user.password, nextIp()); // a second session that must survive
      const first = await login(user.email, user.password, nextIp());
      const rotated = await refresh(first.body.refreshToken);
      expect(rotated.status).toBe(200);
      expect(rotated.body.refreshToken).toMatch(/^gcr_/);
      expect(rotated.body.refreshToken).not.toBe(first.body.refreshToken);
      expect((await me(rotated.body.accessToken)).status).toBe(200);
      const next = await refresh(rotated.body.refreshToken);
      expect(next.status).toBe(200);

      // The first refresh token was spent: presenting it again is reuse.
      const reuse = await refresh(first.body.refreshToken);
      expect([reuse.status, reuse.body.code]).toEqual([401, 'unauthorized']);
      expect((await me(next.body.accessToken)).status).toBe(401);
      expect((await me(first.body.accessToken)).status).toBe(401);
      expect((await refresh(next.body.refreshToken)).status).toBe(401);
      expect((await me(other.body.accessToken)).status).toBe(200);

      const sessions: { id: string; revoked_reason: string | null }[] = await h.db.query(
        'SELECT id, revoked_reason FROM sessions WHERE user_id = ? AND revoked_at IS NOT NULL',
        [user.userId],
      );
      expect(sessions.map((s) => s.revoked_reason)).toEqual(['refresh_reuse']);
      const audit = await auditRows(h, 'auth.refresh_reuse', sessions[0]!.id);
      expect(audit).toEqual([
        { actorId: user.userId, metadata: { spentAt: expect.any(String), sessionWasActive: true } },
      ]);
    });

    it('treats two concurrent refreshes with one token as reuse: one wins, and then the session dies', async () => {
      const user = await signUp(h, 'racer');
      const session = await login(user.email, user.password, nextIp());
      const results = await Promise.all([refresh(session.body.refreshToken), refresh(session.body.refreshToken)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      const winner = results.find((r) => r.status === 200)!;
      expect((await me(winner.body.accessToken)).status).toBe(401);
      expect((await refresh(winner.body.refreshToken)).status).toBe(401);
    });

    it('logout kills the access token and the refresh token at once', async () => {
      const user = await signUp(h, 'leaver');
      const session = await login(user.email, user.password, nextIp());
      expect((await me(session.body.accessToken)).status).toBe(200);
      const out = await h.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.body.accessToken}`);
      expect(out.status).toBe(204);
      const after = await me(session.body.accessToken);
      expect([after.status, after.body.code]).toEqual([401, 'unauthorized']);
      expect((await refresh(session.body.refreshToken)).status).toBe(401);
      // Other sessions of the account are untouched.
      expect((await h.http.get('/api/v1/auth/me').set('Authorization', user.auth)).status).toBe(200);
    });
  });

  describe('password change', () => {
    const change = (accessToken: string, body: Record<string, unknown>) =>
      h.http.post('/api/v1/auth/password').set('Authorization', `Bearer ${accessToken}`).send(body);

    it('checks the current password and the policy, then revokes every other session but the current one', async () => {
      const user = await signUp(h, 'changer');
      const current = await login(user.email, user.password, nextIp());
      const elsewhere = await login(user.email, user.password, nextIp());
      const newPassword = 'a brand new passphrase for changer';

      const wrong = await change(current.body.accessToken, { currentPassword: 'not it at all', newPassword });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({
        code: 'invalid_credentials',
        errors: [{ field: 'currentPassword', message: 'is not correct' }],
      });
      const weak = await change(current.body.accessToken, { currentPassword: user.password, newPassword: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.body.code).toBe('validation_failed');
      expect(weak.body.errors[0].field).toBe('newPassword');
      const extra = await change(current.body.accessToken, { currentPassword: user.password, newPassword, x: 1 });
      expect(extra.status).toBe(400);

      const changed = await change(current.body.accessToken, { currentPassword: user.password, newPassword });
      expect(changed.status).toBe(204);

      expect((await me(current.body.accessToken)).status).toBe(200);
      expect((await refresh(current.body.refreshToken)).status).toBe(200);
      expect((await me(elsewhere.body.accessToken)).status).toBe(401);
      expect((await h.http.get('/api/v1/auth/me').set('Authorization', user.auth)).status).toBe(401);
      expect((await refresh(elsewhere.body.refreshToken)).status).toBe(401);
      expect((await login(user.email, user.password, nextIp())).status).toBe(401);
      expect((await login(user.email, newPassword, nextIp())).status).toBe(200);

      expect(await auditRows(h, 'auth.password_changed', user.userId)).toEqual([
        { actorId: user.userId, metadata: { revokedSessions: 2 } },
      ]);
    });

    it('counts wrong current passwords towards the lockout', async () => {
      const user = await signUp(h, 'guesser');
      const token = (await login(user.email, user.password, nextIp())).body.accessToken as string;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const res = await change(token, { currentPassword: `guess number ${i}`, newPassword: 'whatever passphrase 1' });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 423]);
      expect((await login(user.email, user.password, nextIp())).status).toBe(423);
    });
  });
});
