import { hashRecoveryCode, normaliseRecoveryCode } from '#libs/auth/recovery-codes';
import { totpCode } from '#libs/auth/totp';
import { AppError } from '#libs/errors/app-error';
import { CLIENT, freezeClock, identityKit, testHasher } from '../testing/in-memory-identity';

const NOW = 1_800_000_015; // the middle of a TOTP step
const STEP_SECONDS = 30;

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('TwoFactorService', () => {
  let kit: ReturnType<typeof identityKit>;
  beforeEach(() => {
    freezeClock(NOW);
    kit = identityKit();
    kit.store.addUser({ id: 'u-ada', email: 'ada@example.com' });
  });
  afterEach(() => jest.useRealTimers());

  const user = () => structuredClone(kit.store.users.get('u-ada')!);
  const code = (secret: string, offsetSeconds = 0) => totpCode(secret, { epochSeconds: NOW + offsetSeconds });

  async function enabled(): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await kit.twoFactor.setup(user());
    const { recoveryCodes } = await kit.twoFactor.enable(user(), code(secret, -STEP_SECONDS), CLIENT);
    return { secret, recoveryCodes };
  }

  describe('setup', () => {
    it('answers a new Base32 secret and its otpauth URI, and stores it sealed, still off', async () => {
      const setup = await kit.twoFactor.setup(user());
      expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(setup.otpauthUrl).toBe(
        `otpauth://totp/GigaChat:ada%40example.com?secret=${setup.secret}&issuer=GigaChat&algorithm=SHA1&digits=6&period=30`,
      );
      const stored = kit.store.users.get('u-ada')!;
      expect(stored.mfaEnabled).toBe(false);
      expect(stored.mfaSecret).toMatch(/^v1:/);
      expect(stored.mfaSecret).not.toContain(setup.secret);
      expect(kit.box.open(stored.mfaSecret!, 'totp:u-ada')).toBe(setup.secret);
    });

    it('replaces an earlier pending secret', async () => {
      const first = await kit.twoFactor.setup(user());
      const second = await kit.twoFactor.setup(user());
      expect(second.secret).not.toBe(first.secret);
      expect(kit.box.open(kit.store.users.get('u-ada')!.mfaSecret!, 'totp:u-ada')).toBe(second.secret);
    });

    it('is a 409 conflict once 2FA is on, and leaves the secret alone', async () => {
      await enabled();
      const sealed = kit.store.users.get('u-ada')!.mfaSecret;
      expect(await failure(kit.twoFactor.setup(user()))).toMatchObject({ code: 'conflict', status: 409 });
      expect(kit.store.users.get('u-ada')!.mfaSecret).toBe(sealed);
    });
  });

  describe('enable', () => {
    it('turns 2FA on with a code of the pending secret: ten recovery codes, stored only as hashes, audited', async () => {
      const { secret } = await kit.twoFactor.setup(user());
      const { recoveryCodes } = await kit.twoFactor.enable(user(), code(secret), CLIENT);
      expect(recoveryCodes).toHaveLength(10);
      for (const recoveryCode of recoveryCodes) expect(recoveryCode).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
      expect(kit.store.users.get('u-ada')).toMatchObject({ mfaEnabled: true, mfaLastStep: Math.floor(NOW / 30) });
      expect(kit.store.recoveryCodes.map((row) => row.codeHash).sort()).toEqual(
        recoveryCodes.map((c) => hashRecoveryCode(normaliseRecoveryCode(c)!)).sort(),
      );
      expect(kit.store.audit).toEqual([
        expect.objectContaining({ action: 'auth.2fa_enabled', actorId: 'u-ada', requestId: CLIENT.requestId }),
      ]);
    });

    it('refuses a wrong code with 400 validation_failed on otp, and stays off', async () => {
      const { secret } = await kit.twoFactor.setup(user());
      const error = await failure(kit.twoFactor.enable(user(), code(secret, -10 * STEP_SECONDS), CLIENT));
      expect(error).toMatchObject({ code: 'validation_failed', status: 400, extra: { errors: [{ field: 'otp' }] } });
      expect(kit.store.users.get('u-ada')!.mfaEnabled).toBe(false);
      expect(kit.store.recoveryCodes).toEqual([]);
    });

    it('is a conflict without a setup first, or when 2FA is already on', async () => {
      expect(await failure(kit.twoFactor.enable(user(), '123456', CLIENT))).toMatchObject({ code: 'conflict' });
      const { secret } = await enabled();
      expect(await failure(kit.twoFactor.enable(user(), code(secret), CLIENT))).toMatchObject({ code: 'conflict' });
    });

    it('is a conflict when another setup replaced the secret the code was checked against, and writes nothing', async () => {
      const { secret } = await kit.twoFactor.setup(user());
      const checkedAgainst = user();
      await kit.twoFactor.setup(user()); // a second tab starts over
      expect(await failure(kit.twoFactor.enable(checkedAgainst, code(secret), CLIENT))).toMatchObject({
        code: 'conflict',
      });
      expect(kit.store.users.get('u-ada')!.mfaEnabled).toBe(false);
      expect(kit.store.recoveryCodes).toEqual([]);
      expect(kit.store.audit).toEqual([]);
    });
  });

  describe('consume', () => {
    it('accepts a TOTP code once (one step of drift either way), never an older step than the last used', async () => {
      const { secret } = await enabled();
      expect(await kit.twoFactor.consume(user(), code(secret), CLIENT)).toBe('totp');
      expect(await kit.twoFactor.consume(user(), code(secret), CLIENT)).toBeNull();
      expect(await kit.twoFactor.consume(user(), code(secret, STEP_SECONDS), CLIENT)).toBe('totp');
      expect(await kit.twoFactor.consume(user(), code(secret, 2 * STEP_SECONDS), CLIENT)).toBeNull();
    });

    it('accepts each recovery code once, however it is typed, and audits how many are left', async () => {
      const { recoveryCodes } = await enabled();
      const typed = recoveryCodes[3]!.replace(/-/g, ' ').toUpperCase();
      expect(await kit.twoFactor.consume(user(), typed, CLIENT)).toBe('recovery_code');
      expect(await kit.twoFactor.consume(user(), recoveryCodes[3]!, CLIENT)).toBeNull();
      expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.recovery_code_used', metadata: { remaining: 9 } });
      expect(await kit.twoFactor.consume(user(), 'abcd-efgh-jkmn', CLIENT)).toBeNull();
    });

    it('accepts nothing while 2FA is off', async () => {
      const { secret } = await kit.twoFactor.setup(user());
      expect(await kit.twoFactor.consume(user(), code(secret), CLIENT)).toBeNull();
    });
  });

  describe('disable (through AuthService, which checks the password and the second factor)', () => {
    const principal = {
      userId: 'u-ada',
      sessionId: 's-1',
      role: 'user' as const,
      scopes: [],
      kind: 'session' as const,
    };

    beforeEach(async () => {
      const hash = await testHasher().hash('violet kettle drums at noon');
      kit.store.users.get('u-ada')!.passwordHash = hash;
    });

    it('wipes the secret, the last step and every recovery code; audited with the factor used', async () => {
      const { secret } = await enabled();
      await kit.auth.disableTwoFactor(
        principal,
        { password: 'violet kettle drums at noon', otp: code(secret) },
        CLIENT,
      );
      expect(kit.store.users.get('u-ada')).toMatchObject({ mfaEnabled: false, mfaSecret: null, mfaLastStep: null });
      expect(kit.store.recoveryCodes).toEqual([]);
      expect(kit.store.audit.at(-1)).toMatchObject({ action: 'auth.2fa_disabled', metadata: { factor: 'totp' } });
    });

    it('answers a wrong password or code with invalid_credentials naming the field, and stays on', async () => {
      const { secret } = await enabled();
      const wrongPassword = await failure(
        kit.auth.disableTwoFactor(principal, { password: 'not the password at all', otp: code(secret) }, CLIENT),
      );
      expect(wrongPassword).toMatchObject({ code: 'invalid_credentials', extra: { errors: [{ field: 'password' }] } });
      const wrongCode = await failure(
        kit.auth.disableTwoFactor(principal, { password: 'violet kettle drums at noon', otp: '000000' }, CLIENT),
      );
      expect(wrongCode).toMatchObject({ code: 'invalid_credentials', extra: { errors: [{ field: 'otp' }] } });
      expect(kit.store.users.get('u-ada')!.mfaEnabled).toBe(true);
      expect(kit.store.recoveryCodes).toHaveLength(10);
    });

    it('is a conflict when 2FA is not on', async () => {
      expect(
        await failure(
          kit.auth.disableTwoFactor(principal, { password: 'violet kettle drums at noon', otp: '123456' }, CLIENT),
        ),
      ).toMatchObject({ code: 'conflict' });
    });
  });
});
