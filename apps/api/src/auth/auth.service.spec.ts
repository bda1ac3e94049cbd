import { totpCode } from '#libs/auth/totp';
import { AppError } from '#libs/errors/app-error';
import type { Principal } from './principal';
import { CLIENT, freezeClock, identityKit } from './testing/in-memory-identity';

const PASSWORD = 'violet kettle drums at noon';

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('AuthService', () => {
  let kit: ReturnType<typeof identityKit>;
  beforeEach(() => {
    kit = identityKit({ maxFailures: 3 });
  });

  const register = (email: string, password = PASSWORD) =>
    kit.auth.register({ email, password, displayName: email.split('@')[0]! }, CLIENT);
  const login = (email: string, password = PASSWORD, otp?: string) =>
    kit.auth.login({ email, password, ...(otp === undefined ? {} : { otp }) }, CLIENT);
  const principalOf = async (accessToken: string): Promise<Principal> => {
    const claims = await kit.codec.verify(accessToken);
    return { userId: claims.sub, sessionId: claims.sid, role: claims.role as 'user', scopes: [], kind: 'session' };
  };

  describe('register', () => {
    it('makes the first account of the installation its admin, and later ones users; audited', async () => {
      const first = await register('ada@example.com');
      const second = await register('bob@example.com');
      expect(first).toMatchObject({ email: 'ada@example.com', displayName: 'ada', role: 'admin', mfaEnabled: false });
      expect(second.role).toBe('user');
      expect(kit.store.audit).toEqual([
        expect.objectContaining({ action: 'user.registered', actorId: first.id, targetId: first.id, ip: CLIENT.ip }),
        expect.objectContaining({ action: 'user.registered', actorId: second.id, requestId: CLIENT.requestId }),
      ]);
      // The password is kept only as a hash.
      expect(kit.store.users.get(first.id)!.passwordHash).not.toContain(PASSWORD);
    });

    it('answers 409 email_taken for an address already registered, and writes nothing', async () => {
      await register('ada@example.com');
      const error = await failure(register('ada@example.com', 'another long passphrase here'));
      expect(error).toMatchObject({ code: 'email_taken', status: 409 });
      expect(kit.store.users.size).toBe(1);
      expect(kit.store.auditActions()).toEqual(['user.registered']);
    });

    it('refuses a short or common password, naming the field', async () => {
      for (const password of ['short', 'password123456']) {
        const error = await failure(register('ada@example.com', password));
        expect(error).toMatchObject({ code: 'validation_failed', extra: { errors: [{ field: 'password' }] } });
      }
      expect(kit.store.users.size).toBe(0);
    });
  });

  describe('login', () => {
    it('opens a session and answers a token pair whose access token names it', async () => {
      const ada = await register('ada@example.com');
      const pair = await login('ada@example.com');
      expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshToken: expect.stringMatching(/^gcr_/) });
      const claims = await kit.codec.verify(pair.accessToken);
      expect(claims).toMatchObject({ sub: ada.id, role: 'admin' });
      expect(kit.store.sessions.get(claims.sid)).toMatchObject({ userId: ada.id, revokedAt: null, ip: CLIENT.ip });
      expect(kit.store.audit.at(-1)).toMatchObject({
        action: 'auth.login',
        targetType: 'session',
        targetId: claims.sid,
      });
    });

    it('refuses a wrong password with 401 invalid_credentials, opens no session, audits why', async () => {
      const ada = await register('ada@example.com');
      const error = await failure(login('ada@example.com', 'not the password at all'));
      expect(error).toMatchObject({ code: 'invalid_credentials', status: 401 });
      expect(kit.store.sessions.size).toBe(0);
      expect(kit.store.audit.at(-1)).toMatchObject({
        action: 'auth.login_failed',
        actorId: ada.id,
        metadata: { reason: 'wrong_password' },
      });
    });

    it('answers an unknown email exactly like a wrong password, and names no account', async () => {
      const error = await failure(login('nobody@example.com'));
      expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, detail: expect.any(String) });
      expect(error.detail).toBe((await failure(login('nobody@example.com', 'x'.repeat(12)))).detail);
      expect(kit.store.audit.at(-1)).toMatchObject({
        action: 'auth.login_failed',
        actorId: null,
        metadata: { reason: 'unknown_email' },
      });
    });

    it('refuses a disabled account even with the right password', async () => {
      const ada = await register('ada@example.com');
      kit.store.users.get(ada.id)!.disabled = true;
      expect(await failure(login('ada@example.com'))).toMatchObject({ code: 'invalid_credentials' });
      expect(kit.store.audit.at(-1)).toMatchObject({ metadata: { reason: 'disabled' } });
    });

    it('locks the account at the limit: 423 account_locked with Retry-After, even for the right password', async () => {
      const ada = await register('ada@example.com');
      for (let i = 0; i < 3; i += 1) await failure(login('ada@example.com', 'not the password at all'));
      expect(kit.store.auditActions().filter((action) => action === 'auth.locked')).toHaveLength(1);
      expect(kit.store.audit.find((row) => row.action === 'auth.locked')).toMatchObject({
        targetId: ada.id,
        metadata: { level: 1, lockSeconds: 900 },
      });

      const locked = await failure(login('ada@example.com'));
      expect(locked).toMatchObject({
        code: 'account_locked',
        status: 423,
        extra: { headers: { 'Retry-After': '900' } },
      });
      expect(kit.store.sessions.size).toBe(0);
      expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.login_failed', metadata: { reason: 'locked' } });

      await kit.lockout.unlock('ada@example.com');
      await expect(login('ada@example.com')).resolves.toHaveProperty('accessToken');
    });

    it('a success forgets the failures before it', async () => {
      await register('ada@example.com');
      await failure(login('ada@example.com', 'not the password at all'));
      await failure(login('ada@example.com', 'not the password at all'));
      await login('ada@example.com');
      await failure(login('ada@example.com', 'not the password at all'));
      await failure(login('ada@example.com', 'not the password at all'));
      await expect(login('ada@example.com')).resolves.toHaveProperty('accessToken');
    });

    describe('with two-factor authentication on', () => {
      // The middle of a TOTP step, held still: codes of this step and the one before never straddle a boundary.
      beforeEach(() => freezeClock(1_800_000_015));
      afterEach(() => jest.useRealTimers());

      async function withTwoFactor(): Promise<{ secret: string; recoveryCodes: string[] }> {
        const ada = await register('ada@example.com');
        const principal = await principalOf((await login('ada@example.com')).accessToken);
        const { secret } = await kit.auth.setupTwoFactor(principal);
        // A code of the previous step, so the login's current-step code is still unused.
        const earlier = totpCode(secret, { epochSeconds: Date.now() / 1000 - 30 });
        const { recoveryCodes } = await kit.auth.enableTwoFactor(principal, earlier, CLIENT);
        expect(kit.store.users.get(ada.id)!.mfaEnabled).toBe(true);
        return { secret, recoveryCodes };
      }

      it('answers 401 mfa_required without a code, and counts it as a failed attempt', async () => {
        await withTwoFactor();
        const sessionsBefore = kit.store.sessions.size;
        const error = await failure(login('ada@example.com'));
        expect(error).toMatchObject({ code: 'mfa_required', status: 401 });
        expect(kit.store.sessions.size).toBe(sessionsBefore);
        expect(kit.store.audit.at(-1)).toMatchObject({
          action: 'auth.login_failed',
          metadata: { reason: 'mfa_missing' },
        });
      });

      it('logs in with the current code once; the same code again is a replay', async () => {
        const { secret } = await withTwoFactor();
        const code = totpCode(secret);
        await expect(login('ada@example.com', PASSWORD, code)).resolves.toHaveProperty('accessToken');
        expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.login', metadata: { mfa: 'totp' } });
        expect(await failure(login('ada@example.com', PASSWORD, code))).toMatchObject({ code: 'mfa_required' });
        expect(kit.store.audit.at(-1)).toMatchObject({ metadata: { reason: 'wrong_otp' } });
      });

      it('takes a recovery code once in place of a TOTP code', async () => {
        const { recoveryCodes } = await withTwoFactor();
        const code = recoveryCodes[0]!.toUpperCase();
        await expect(login('ada@example.com', PASSWORD, code)).resolves.toHaveProperty('accessToken');
        expect(kit.store.audit.at(-2)).toMatchObject({ action: 'auth.recovery_code_used', metadata: { remaining: 9 } });
        expect(await failure(login('ada@example.com', PASSWORD, code))).toMatchObject({ code: 'mfa_required' });
      });

      it('still answers invalid_credentials first for a wrong password (no hint that 2FA is on)', async () => {
        const { secret } = await withTwoFactor();
        const error = await failure(login('ada@example.com', 'not the password at all', totpCode(secret)));
        expect(error.code).toBe('invalid_credentials');
      });
    });
  });

  describe('changePassword', () => {
    it('changes the hash, ends every other session of the account (database and Redis), keeps this one', async () => {
      const ada = await register('ada@example.com');
      const current = await principalOf((await login('ada@example.com')).accessToken);
      const other = await principalOf((await login('ada@example.com')).accessToken);
      await kit.auth.changePassword(
        current,
        { currentPassword: PASSWORD, newPassword: 'another long passphrase here' },
        CLIENT,
      );

      expect(kit.store.sessions.get(other.sessionId)).toMatchObject({ revokedReason: 'password_change' });
      expect(kit.store.sessions.get(current.sessionId)!.revokedAt).toBeNull();
      expect([...kit.revocations.revoked]).toEqual([other.sessionId]);
      expect(kit.store.audit.at(-1)).toMatchObject({
        action: 'auth.password_changed',
        targetId: ada.id,
        metadata: { revokedSessions: 1 },
      });
      expect(await failure(login('ada@example.com'))).toMatchObject({ code: 'invalid_credentials' });
      await expect(login('ada@example.com', 'another long passphrase here')).resolves.toHaveProperty('accessToken');
    });

    it('answers a wrong current password with 400 invalid_credentials naming it, and changes nothing', async () => {
      const ada = await register('ada@example.com');
      const current = await principalOf((await login('ada@example.com')).accessToken);
      const before = kit.store.users.get(ada.id)!.passwordHash;
      const error = await failure(
        kit.auth.changePassword(
          current,
          { currentPassword: 'not the password at all', newPassword: 'another long passphrase here' },
          CLIENT,
        ),
      );
      expect(error).toMatchObject({
        code: 'invalid_credentials',
        extra: { errors: [{ field: 'currentPassword', message: 'is not correct' }] },
      });
      expect(kit.store.users.get(ada.id)!.passwordHash).toBe(before);
      expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.password_change_failed' });
    });

    it('refuses a new password the policy refuses, naming newPassword', async () => {
      await register('ada@example.com');
      const current = await principalOf((await login('ada@example.com')).accessToken);
      const error = await failure(
        kit.auth.changePassword(current, { currentPassword: PASSWORD, newPassword: 'football2024' }, CLIENT),
      );
      expect(error).toMatchObject({ code: 'validation_failed', extra: { errors: [{ field: 'newPassword' }] } });
    });
  });

  it('logout ends the session at once', async () => {
    await register('ada@example.com');
    const principal = await principalOf((await login('ada@example.com')).accessToken);
    await kit.auth.logout(principal, CLIENT);
    expect(kit.store.sessions.get(principal.sessionId)).toMatchObject({ revokedReason: 'logout' });
    expect(kit.revocations.revoked.has(principal.sessionId)).toBe(true);
    expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.logout', targetId: principal.sessionId });
  });
});
