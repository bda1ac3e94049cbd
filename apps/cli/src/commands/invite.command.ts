import { randomUUID } from 'node:crypto';
import { generateOpaqueToken } from '#libs/auth/opaque-token';
import { integerOption, requirePositional, stringOption, UsageError, type Command } from '../command';
import { normalisedEmail } from '../operator-input';

const DAY_MS = 86_400_000;

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'invite an address to register (REGISTRATION=invite): prints its one-time code',
  help: [
    'usage: gigachat invite <email> [--role user|admin] [--days <n>]',
    '',
    'Creates an invitation for one address and prints its code, once (only its hash is stored). The invitee',
    'registers with POST /api/v1/auth/register and {"inviteCode": "<code>"}; the account gets the role. A code',
    'works once, for that address only, until it expires. Audited as invitation.created.',
    '',
    '  --role user|admin  the new account’s role (default user)',
    '  --days <n>         days until the code expires, 1-90 (default 7)',
  ].join('\n'),
  options: { role: { type: 'string' }, days: { type: 'string' } },
  needsConfig: true,
  async run(input, context) {
    const email = normalisedEmail(requirePositional(input, 0, '<email>'));
    const role = stringOption(input, 'role') ?? 'user';
    if (role !== 'user' && role !== 'admin') throw new UsageError('--role must be user or admin');
    const days = integerOption(input, 'days', { min: 1, max: 90 }) ?? 7;
    const { token, hash } = generateOpaqueToken('gci_');
    const expiresAt = new Date(Date.now() + days * DAY_MS);
    const db = await context.database();
    const audit = await context.audit();
    const invitation = await db.transaction(async (tx) => {
      const created = await tx.invitations.create({
        id: randomUUID(),
        email,
        role,
        codeHash: hash,
        expiresAt,
      });
      await audit.record(
        {
          actorId: null,
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: created.id,
          metadata: { role, expiresAt: expiresAt.toISOString(), by: 'cli' },
          ...context.client,
        },
        tx,
      );
      return created;
    });
    input.out(`invitation ${invitation.id} for ${email} (${role}), valid until ${expiresAt.toISOString()}`);
    input.out(`code (shown once): ${token}`);
    if (context.config.auth.registration === 'closed') {
      input.out('note: REGISTRATION=closed refuses every registration, invited or not; set REGISTRATION=invite');
    }
  },
};
