import { randomBytes } from 'node:crypto';
import { checkPasswordPolicy } from '#libs/auth/password-policy';
import { CommandError, requirePositional, type Command } from '../command';
import { confirm, normalisedEmail, readStdin } from '../operator-input';

export const resetPasswordCommand: Command = {
  name: 'reset-password',
  summary: 'set a new password for an account and end all of its sessions',
  help: [
    'usage: gigachat reset-password <email> [--password-stdin] [--yes]',
    '',
    'Sets a new password (from standard input with --password-stdin, else a random one printed once) and ends',
    'every session of the account at once. Two-factor authentication stays as it is. Audited as',
    'auth.password_reset (no actor: the operator).',
    '',
    '  --password-stdin   read the new password from standard input',
    '  --yes              do not ask for confirmation',
  ].join('\n'),
  options: { 'password-stdin': { type: 'boolean' }, yes: { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const email = normalisedEmail(requirePositional(input, 0, '<email>'));
    const generated = input.options['password-stdin'] !== true;
    const password = generated ? randomBytes(18).toString('base64url') : await readStdin();
    const problems = checkPasswordPolicy(password);
    if (problems.length > 0) throw new CommandError(`the password is not accepted: ${problems.join('; ')}`);
    const user = await context.userByEmail(email);
    await confirm(input, `The password of ${email} is replaced and all of its sessions end.`);

    const passwordHash = await context.passwordHasher().hash(password);
    const db = await context.database();
    const audit = await context.audit();
    const revoked = await db.transaction(async (tx) => {
      if (!(await tx.users.changePasswordHash(user.id, user.passwordHash, passwordHash))) {
        throw new CommandError('the password changed meanwhile; run the command again');
      }
      const ids = await tx.sessions.revokeAllOfUser(user.id, 'password_change');
      await audit.record(
        {
          actorId: null,
          action: 'auth.password_reset',
          targetType: 'user',
          targetId: user.id,
          metadata: { revokedSessions: ids.length, by: 'cli' },
          ...context.client,
        },
        tx,
      );
      return ids;
    });
    await (await context.sessionRevocations()).revokeMany(revoked);
    input.out(`${email}: password replaced, ${revoked.length} session(s) ended`);
    if (generated) input.out(`new password (shown once): ${password}`);
  },
};
