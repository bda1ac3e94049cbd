import { SECURITY_OPTIONS, SecurityOptions } from '../apps/api/src/security/security.options';
import { totpCode, totpStep } from '#libs/auth/totp';
import { count, Harness, signUp, startHarness, type TestUser } from './support/harness';

/**
 * TOTP two-factor authentication over HTTP, against real MySQL and Redis: setup → enable → login needs a code;
 * codes and recovery codes work once; disable needs the password and a code; bad input writes nothing.
 *
 * The server runs on the real clock; codes are computed here for the current step or the next one (the server
 * accepts one step of drift either way), so no test needs to wait for a new step.
 */
describe('two-factor authentication, end to end (real MySQL, Redis)', () => {
  let h: Harness;
  let ipSeq = 0;
  const nextIp = () => `198.51.101.${++ipSeq}`;
  const API = '/api/v1/auth';
  const PROBLEM_JSON = /^application\/problem\+json(;|$)/;
  const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

  beforeAll(async () => {
    h = await startHarness('twofactor', { worker: false, fakeLlm: false });
    // Many sign-ups and logins from one process: the per-address auth limit is another suite's topic.
    h.app.get<symbol, SecurityOptions>(SECURITY_OPTIONS).rateLimits.auth.limit = 10_000;
  });
  afterAll(async () => {
    if (!h) return;
    await h.close();
  });

  type User = TestUser;
  const post = (path: string, auth: string | null, body?: object) => {
    const req = h.http.post(`${API}${path}`).set('X-Forwarded-For', nextIp());
    if (auth) req.set('Authorization', auth);
    return body === undefined ? req : req.send(body);
  };
  const login = (user: User, otp?: unknown) =>
    post('/login', null, { email: user.email, password: user.password, ...(otp === undefined ? {} : { otp }) });
  const now = () => Math.floor(Date.now() / 1000);
  /** The code `steps` steps from now. */
  const code = (secret: string, steps = 0) => totpCode(secret, { epochSeconds: now() + steps * 30 });

  async function userRow(userId: string) {
    const rows: { mfa_enabled: number; mfa_secret: string | null; mfa_last_step: number | null }[] = await h.db.query(
      'SELECT mfa_enabled, mfa_secret, mfa_last_step FROM users WHERE id = ?',
      [userId],
    );
    return rows[0]!;
  }
  async function recoveryRows(userId: string) {
    const rows: { code_hash: string; used_at: Date | null }[] = await h.db.query(
      'SELECT code_hash, used_at FROM mfa_recovery_codes WHERE user_id = ?',
      [userId],
    );
    return rows;
  }
  async function auditRows(action: string, userId: string) {
    const rows: { actor_id: string | null; metadata: unknown }[] = await h.db.query(
      'SELECT actor_id, metadata FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id',
      [action, userId],
    );
    return rows.map((row) => ({
      actorId: row.actor_id,
      metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as unknown) : row.metadata,
    }));
  }
  function expectProblem(res: { status: number; headers: Record<string, string>; body: unknown }, status: number) {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status, requestId: res.headers['x-request-id'] });
  }

  /** A user with 2FA on: its secret, recovery codes and the step its enabling code used. */
  async function enrolled(who: string) {
    const user = await signUp(h, who);
    const setup = await post('/2fa/setup', user.auth);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const enable = await post('/2fa/enable', user.auth, { otp: code(secret) });
    expect(enable.status).toBe(200);
    return { ...user, secret, recoveryCodes: enable.body.recoveryCodes as string[] };
  }

  it('setup → enable → login needs a code; a code and a recovery code each work once', async () => {
    const user = await signUp(h, 'ada');

    // Setup: a Base32 secret and its otpauth URI; stored sealed, not yet enabled.
    const setup = await post('/2fa/setup', user.auth);
    expect(setup.status).toBe(200);
    expect(setup.body).toEqual({ secret: expect.stringMatching(/^[A-Z2-7]{32}$/), otpauthUrl: expect.any(String) });
    const secret = setup.body.secret as string;
    const uri = new URL(setup.body.otpauthUrl as string);
    expect([uri.protocol, uri.host, decodeURIComponent(uri.pathname)]).toEqual([
      'otpauth:',
      'totp',
      `/GigaChat:${user.email}`,
    ]);
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('GigaChat');
    const pending = await userRow(user.userId);
    expect(pending).toMatchObject({ mfa_enabled: 0, mfa_last_step: null });
    expect(pending.mfa_secret).toMatch(/^v1:[A-Za-z0-9+/=]{16}:[A-Za-z0-9+/=]{24}:[A-Za-z0-9+/=]+$/);
    expect(pending.mfa_secret).not.toContain(secret);
    // Not enabled yet: the password alone still logs in.
    expect((await login(user)).status).toBe(200);

    // A wrong code does not enable it, and writes nothing.
    const wrong = await post('/2fa/enable', user.auth, { otp: code(secret, -5) });
    expectProblem(wrong, 400);
    expect(wrong.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'otp' }] });
    expect(await userRow(user.userId)).toEqual(pending);
    expect(await recoveryRows(user.userId)).toEqual([]);

    // Enable with the current code: ten recovery codes, stored only as hashes.
    const enabledAt = totpStep(now());
    const enable = await post('/2fa/enable', user.auth, { otp: code(secret) });
    expect(enable.status).toBe(200);
    const codes = enable.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
    const stored = await recoveryRows(user.userId);
    expect(stored).toHaveLength(10);
    for (const row of stored) {
      expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(codes.map((c) => c.replace(/-/g, ''))).not.toContain(row.code_hash);
      expect(row.used_at).toBeNull();
    }
    const enabled = await userRow(user.userId);
    expect(enabled.mfa_enabled).toBe(1);
    expect(enabled.mfa_secret).toBe(pending.mfa_secret);
    expect(Math.abs(Number(enabled.mfa_last_step) - enabledAt)).toBeLessThanOrEqual(1);
    expect(await auditRows('auth.2fa_enabled', user.userId)).toEqual([{ actorId: user.userId, metadata: null }]);
    expect((await h.http.get(`${API}/me`).set('Authorization', user.auth)).body.mfaEnabled).toBe(true);

    // Already on: setup and enable are conflicts.
    const again = await post('/2fa/setup', user.auth);
    expectProblem(again, 409);
    expect(again.body.code).toBe('conflict');
    expect((await post('/2fa/enable', user.auth, { otp: code(secret, 1) })).body.code).toBe('conflict');
    expect(await userRow(user.userId)).toEqual(enabled);

    // Login: no code → 401 mfa_required.
    const noCode = await login(user);
    expectProblem(noCode, 401);
    expect(noCode.body.code).toBe('mfa_required');
    expect(noCode.body.accessToken).toBeUndefined();
    // The code that enabled it was spent there: replaying it is refused.
    expect((await login(user, code(secret))).body.code).toBe('mfa_required');
    // A fresh code (the next step; one step of drift is accepted) logs in, once.
    const fresh = code(secret, 1);
    const withCode = await login(user, fresh);
    expect(withCode.status).toBe(200);
    expect(withCode.body.accessToken).toMatch(/^v4\.local\./);
    const replay = await login(user, fresh);
    expectProblem(replay, 401);
    expect(replay.body.code).toBe('mfa_required');

    // A recovery code logs in once, however it is typed, and not again.
    const recovery = codes[0]!;
    const recovered = await login(user, recovery.toUpperCase());
    expect(recovered.status).toBe(200);
    expect((await login(user, recovery)).body.code).toBe('mfa_required');
    expect((await recoveryRows(user.userId)).filter((row) => row.used_at !== null)).toHaveLength(1);
    expect(await auditRows('auth.recovery_code_used', user.userId)).toEqual([
      { actorId: user.userId, metadata: { remaining: 9 } },
    ]);
    const logins = await h.db.query<{ metadata: unknown }[]>(
      "SELECT metadata FROM audit_log WHERE action = 'auth.login' AND actor_id = ? ORDER BY id",
      [user.userId],
    );
    expect(logins.map((row) => (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata))).toEqual([
      null,
      null,
      { mfa: 'totp' },
      { mfa: 'recovery_code' },
    ]);
    const failures = await auditRows('auth.login_failed', user.userId);
    expect(failures.map((row) => (row.metadata as { reason: string }).reason)).toEqual([
      'mfa_missing',
      'wrong_otp',
      'wrong_otp',
      'wrong_otp',
    ]);
  });

  it('a code or a recovery code sent twice at once logs in only once', async () => {
    const user = await enrolled('racer');
    const fresh = code(user.secret, 1);
    const byCode = await Promise.all([login(user, fresh), login(user, fresh), login(user, fresh)]);
    expect(byCode.map((res) => res.status).sort()).toEqual([200, 401, 401]);
    const recovery = user.recoveryCodes[3]!;
    const byRecovery = await Promise.all([login(user, recovery), login(user, recovery), login(user, recovery)]);
    expect(byRecovery.map((res) => res.status).sort()).toEqual([200, 401, 401]);
    expect((await recoveryRows(user.userId)).filter((row) => row.used_at !== null)).toHaveLength(1);
  });

  it('counts a missing or wrong code as a failed login: the lockout bounds guessing codes', async () => {
    const user = await enrolled('guesser');
    const statuses: number[] = [];
    statuses.push((await login(user)).status);
    for (const steps of [-20, -10, 10, 20]) statuses.push((await login(user, code(user.secret, steps))).status);
    statuses.push((await login(user, 'zzzz-zzzz-zzzz')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 423]);
    // Locked: even a right code is refused now.
    const locked = await login(user, code(user.secret, 1));
    expectProblem(locked, 423);
    expect(locked.body.code).toBe('account_locked');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(await auditRows('auth.locked', user.userId)).toHaveLength(1);
  });

  it('setup again before enabling replaces the pending secret', async () => {
    const user = await signUp(h, 'twice');
    const first = (await post('/2fa/setup', user.auth)).body.secret as string;
    const second = (await post('/2fa/setup', user.auth)).body.secret as string;
    expect(second).not.toBe(first);
    const stale = await post('/2fa/enable', user.auth, { otp: code(first) });
    expect([stale.status, stale.body.code]).toEqual([400, 'validation_failed']);
    expect((await post('/2fa/enable', user.auth, { otp: code(second) })).status).toBe(200);
  });

  it('enable without setup is a conflict', async () => {
    const user = await signUp(h, 'nosetup');
    const res = await post('/2fa/enable', user.auth, { otp: '123456' });
    expectProblem(res, 409);
    expect(res.body.code).toBe('conflict');
  });

  it('disable needs the password and a code; then the password alone logs in again', async () => {
    const user = await enrolled('leaver');
    const before = await userRow(user.userId);

    const wrongPassword = await post('/2fa/disable', user.auth, {
      password: 'not the password',
      otp: code(user.secret, 1),
    });
    expectProblem(wrongPassword, 401);
    expect(wrongPassword.body).toMatchObject({
      code: 'invalid_credentials',
      errors: [{ field: 'password', message: 'is not correct' }],
    });
    const wrongCode = await post('/2fa/disable', user.auth, { password: user.password, otp: code(user.secret, -10) });
    expectProblem(wrongCode, 401);
    expect(wrongCode.body).toMatchObject({ code: 'invalid_credentials', errors: [{ field: 'otp' }] });
    const noCode = await post('/2fa/disable', user.auth, { password: user.password });
    expectProblem(noCode, 400);
    expect(noCode.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'otp' }] });
    expect(await userRow(user.userId)).toEqual(before);
    expect(await recoveryRows(user.userId)).toHaveLength(10);
    expect((await auditRows('auth.2fa_disable_failed', user.userId)).map((r) => r.metadata)).toEqual([
      { reason: 'wrong_password' },
      { reason: 'wrong_otp' },
    ]);

    // A recovery code does as well as a TOTP code.
    const off = await post('/2fa/disable', user.auth, { password: user.password, otp: user.recoveryCodes[5]! });
    expect(off.status).toBe(204);
    expect(await userRow(user.userId)).toEqual({ mfa_enabled: 0, mfa_secret: null, mfa_last_step: null });
    expect(await recoveryRows(user.userId)).toEqual([]);
    expect(await auditRows('auth.2fa_disabled', user.userId)).toEqual([
      { actorId: user.userId, metadata: { factor: 'recovery_code' } },
    ]);
    expect((await h.http.get(`${API}/me`).set('Authorization', user.auth)).body.mfaEnabled).toBe(false);
    expect((await login(user)).status).toBe(200);

    const again = await post('/2fa/disable', user.auth, { password: user.password, otp: '123456' });
    expectProblem(again, 409);
    expect(again.body.code).toBe('conflict');
  });

  it('refuses bad input with problem+json 400 and writes nothing', async () => {
    const user = await enrolled('badinput');
    const pendingUser = await signUp(h, 'badpending');
    expect((await post('/2fa/setup', pendingUser.auth)).status).toBe(200);
    const snapshot = async () => ({
      a: await userRow(user.userId),
      b: await userRow(pendingUser.userId),
      codes: await recoveryRows(user.userId),
      audit: await count(h, 'audit_log'),
      sessions: await count(h, 'sessions'),
    });
    const before = await snapshot();

    const cases: [string, string, object, string][] = [
      ['/2fa/enable', pendingUser.auth, {}, 'otp'],
      ['/2fa/enable', pendingUser.auth, { otp: 123456 }, 'otp'],
      ['/2fa/enable', pendingUser.auth, { otp: '12345' }, 'otp'],
      ['/2fa/enable', pendingUser.auth, { otp: 'abcdef' }, 'otp'],
      ['/2fa/enable', pendingUser.auth, { otp: null }, 'otp'],
      ['/2fa/enable', pendingUser.auth, { otp: '123456', extra: true }, 'extra'],
      ['/2fa/disable', user.auth, { password: user.password }, 'otp'],
      ['/2fa/disable', user.auth, { password: user.password, otp: "' OR 1=1 --" }, 'otp'],
      ['/2fa/disable', user.auth, { password: user.password, otp: 'x'.repeat(33) }, 'otp'],
      ['/2fa/disable', user.auth, { otp: '123456' }, 'password'],
      ['/login', '', { email: user.email, password: user.password, otp: ['123456'] }, 'otp'],
      ['/login', '', { email: user.email, password: user.password, otp: '12 345' }, 'otp'],
    ];
    for (const [path, auth, body, field] of cases) {
      const res = await post(path, auth || null, body);
      expectProblem(res, 400);
      expect([path, body, res.body.code, [...new Set(res.body.errors.map((e: { field: string }) => e.field))]]).toEqual(
        [path, body, 'validation_failed', [field]],
      );
    }
    const garbage = await h.http
      .post(`${API}/2fa/enable`)
      .set('Authorization', pendingUser.auth)
      .set('Content-Type', 'application/json')
      .send('{"otp": ');
    expectProblem(garbage, 400);
    expect(garbage.body.code).toBe('invalid_json');
    for (const path of ['/2fa/setup', '/2fa/enable', '/2fa/disable']) {
      const res = await post(path, null, {});
      expectProblem(res, 401);
      expect(res.body.code).toBe('unauthorized');
    }
    expect(await snapshot()).toEqual(before);
  });
});
