import { generateOpaqueToken } from '#libs/auth/opaque-token';
import type { Registration } from '#libs/config/app-config';
import type { UserRole } from '#libs/db/entities/user.entity';
import { AppError } from '#libs/errors/app-error';
import { CLIENT, identityKit } from './testing/in-memory-identity';

const PASSWORD = 'violet kettle drums at noon';
const DAY = 86_400_000;

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('AuthService.register under REGISTRATION', () => {
  let kit: ReturnType<typeof identityKit>;
  const setUp = (registration: Registration) => {
    kit = identityKit({ registration });
  };
  const register = (email: string, inviteCode?: string) =>
    kit.auth.register(
      { email, password: PASSWORD, displayName: email.split('@')[0]!, ...(inviteCode ? { inviteCode } : {}) },
      CLIENT,
    );
  /** An invitation as `gigachat invite` stores it; answers the code the invitee is given. */
  const invite = async (email: string, options: { role?: UserRole; expiresInMs?: number } = {}): Promise<string> => {
    const { token, hash } = generateOpaqueToken('gci_');
    await kit.db.invitations.create({
      id: `inv-${kit.store.invitations.size + 1}`,
      email,
      role: options.role ?? 'user',
      codeHash: hash,
      expiresAt: new Date(Date.now() + (options.expiresInMs ?? 7 * DAY)),
    });
    return token;
  };

  describe('closed', () => {
    beforeEach(() => setUp('closed'));

    it('refuses everyone with 403 forbidden, invited or not, and writes nothing', async () => {
      const code = await invite('ada@example.com');
      for (const attempt of [register('ada@example.com'), register('ada@example.com', code)]) {
        expect(await failure(attempt)).toMatchObject({ code: 'forbidden', status: 403 });
      }
      expect(kit.store.users.size).toBe(0);
      expect(kit.store.invitations.get('inv-1')!.acceptedAt).toBeNull();
    });
  });

  describe('invite', () => {
    beforeEach(() => setUp('invite'));

    it('refuses a registration without a code (403), even the very first one', async () => {
      const error = await failure(register('ada@example.com'));
      expect(error).toMatchObject({ code: 'forbidden', status: 403, detail: expect.stringMatching(/invitation/) });
      expect(kit.store.users.size).toBe(0);
    });

    it('accepts a valid code once, gives the invitation role (never admin for being first), and audits it', async () => {
      const code = await invite('ada@example.com');
      const ada = await register('ada@example.com', code);
      expect(ada).toMatchObject({ email: 'ada@example.com', role: 'user' });
      expect(kit.store.invitations.get('inv-1')).toMatchObject({ acceptedBy: ada.id, acceptedAt: expect.any(Date) });
      expect(kit.store.audit.at(-1)).toMatchObject({
        action: 'user.registered',
        targetId: ada.id,
        metadata: { invitation: 'inv-1', role: 'user' },
      });

      // Spent: the same code does not open a second account, for this address or another.
      expect(await failure(register('ada2@example.com', code))).toMatchObject({ code: 'forbidden' });
      expect(kit.store.users.size).toBe(1);
    });

    it('makes an admin from an admin invitation', async () => {
      const code = await invite('root@example.com', { role: 'admin' });
      expect((await register('root@example.com', code)).role).toBe('admin');
    });

    it('refuses an unknown code, an expired one and one for another address alike, and spends none of them', async () => {
      const expired = await invite('ada@example.com', { expiresInMs: -1000 });
      const bobs = await invite('bob@example.com');
      for (const code of ['gci_not-a-real-code', expired, bobs]) {
        const error = await failure(register('ada@example.com', code));
        expect(error).toMatchObject({ code: 'forbidden', status: 403 });
        expect(error.detail).toBe('The invitation is not valid: unknown, already used, expired or for another address');
      }
      expect(kit.store.users.size).toBe(0);
      expect([...kit.store.invitations.values()].every((row) => row.acceptedAt === null)).toBe(true);
    });

    it('leaves the invitation unspent when the account cannot be created (address taken)', async () => {
      const first = await invite('ada@example.com');
      await register('ada@example.com', first);
      const second = await invite('ada@example.com');
      expect(await failure(register('ada@example.com', second))).toMatchObject({ code: 'email_taken' });
      expect(kit.store.invitations.get('inv-2')!.acceptedAt).toBeNull();
    });
  });

  describe('open', () => {
    beforeEach(() => setUp('open'));

    it('lets anyone register; the first account is the admin; an invitation given is still honoured and spent', async () => {
      const first = await register('ada@example.com');
      const code = await invite('bob@example.com', { role: 'admin' });
      const bob = await register('bob@example.com', code);
      const carol = await register('carol@example.com');
      expect([first.role, bob.role, carol.role]).toEqual(['admin', 'admin', 'user']);
      expect(kit.store.invitations.get('inv-1')!.acceptedBy).toBe(bob.id);
      expect(await failure(register('dave@example.com', 'gci_bogus'))).toMatchObject({ code: 'forbidden' });
    });
  });
});
