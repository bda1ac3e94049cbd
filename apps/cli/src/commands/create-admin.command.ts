import { randomBytes, randomUUID } from 'node:crypto';
import { checkPasswordPolicy } from '#libs/auth/password-policy';
import { isDuplicateKey } from '#libs/db/database-errors';
import { CommandError, requirePositional, stringOption, UsageError, type Command } from '../command';
import { normalisedEmail, readStdin } from '../operator-input';

export const createAdminCommand: Command = {
  name: 'create-admin',
  summary: 'create an administrator account (the first one of an installation, whatever REGISTRATION says)',
  help: [
    'usage: gigachat create-admin <email> [--name <display name>] [--password-stdin]',
    '',
    'Creates an admin account. The password is read from standard input with --password-stdin; otherwise a',
    'random one is generated and printed once. Refused when an enabled admin exists already: promote an account',
    'with `gigachat promote-user` instead. Audited as user.created (no actor: the operator).',
    '',
    '  --name <name>      display name (default: the part of the address before @)',
    '  --password-stdin   read the password from standard input (at least 12 characters, not a common one)',
  ].join('\n'),
  options: { name: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const email = normalisedEmail(requirePositional(input, 0, '<email>'));
    const displayName = (stringOption(input, 'name') ?? email.split('@')[0] ?? email).trim();
    if (displayName === '' || displayName.length > 100) throw new UsageError('--name: 1 to 100 characters');
    const generated = input.options['password-stdin'] !== true;
    const password = generated ? randomBytes(18).toString('base64url') : await readStdin();
    const problems = checkPasswordPolicy(password);
    if (problems.length > 0) throw new CommandError(`the password is not accepted: ${problems.join('; ')}`);

    const db = await context.database();
    const admins = await db.users.list({ role: 'admin' }, 50);
    if (admins.some((admin) => !admin.disabled)) {
      throw new CommandError(
        `an enabled admin exists already (${admins.find((admin) => !admin.disabled)!.email}); use promote-user`,
      );
    }
    const passwordHash = await context.passwordHasher().hash(password);
    const audit = await context.audit();
    let id: string;
    try {
      id = await db.transaction(async (tx) => {
        const user = await tx.users.create({ id: randomUUID(), email, displayName, passwordHash, role: 'admin' });
        await audit.record(
          {
            actorId: null,
            action: 'user.created',
            targetType: 'user',
            targetId: user.id,
            metadata: { role: 'admin', by: 'cli' },
            ...context.client,
          },
          tx,
        );
        return user.id;
      });
    } catch (error) {
      if (isDuplicateKey(error)) throw new CommandError(`an account with the address ${email} exists already`);
      throw error;
    }
    input.out(`admin created: ${email} (id ${id})`);
    if (generated) input.out(`password (shown once; change it after the first login): ${password}`);
  },
};
