import type { UpdateUserDto } from '../../../api/src/admin/dto/update-user.dto';
import { requirePositional, type Command } from '../command';
import { confirm, normalisedEmail } from '../operator-input';

/** The operator, as the admin service sees it: no user of its own (the audit rows have no actor). */
const OPERATOR = { userId: null };

interface AccessChange {
  name: string;
  summary: string;
  explanation: string;
  change: UpdateUserDto;
  /** Ends sessions or takes rights away: asks first. */
  destructive: boolean;
}

function accessCommand(spec: AccessChange): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: [
      `usage: gigachat ${spec.name} <email>${spec.destructive ? ' [--yes]' : ''}`,
      '',
      spec.explanation,
      ...(spec.destructive ? ['', '  --yes   do not ask for confirmation'] : []),
    ].join('\n'),
    options: spec.destructive ? { yes: { type: 'boolean' } } : {},
    needsConfig: true,
    async run(input, context) {
      const email = normalisedEmail(requirePositional(input, 0, '<email>'));
      const user = await context.userByEmail(email);
      if (spec.destructive) await confirm(input, `${spec.summary}: ${email}.`);
      const view = await (await context.adminUsers()).update(user.id, spec.change, OPERATOR, context.client);
      if (view.role === user.role && view.disabled === user.disabled) {
        input.out(`${email}: nothing to change (role ${view.role}, ${view.disabled ? 'disabled' : 'enabled'})`);
        return;
      }
      input.out(`${email}: role ${view.role}, ${view.disabled ? 'disabled' : 'enabled'}`);
    },
  };
}

export const disableUserCommand = accessCommand({
  name: 'disable-user',
  summary: 'disable an account',
  explanation:
    'Disables the account: it can no longer log in, every session ends at once and its API tokens stop working.\nAudited as user.disabled (no actor: the operator).',
  change: { disabled: true },
  destructive: true,
});

export const enableUserCommand = accessCommand({
  name: 'enable-user',
  summary: 'enable a disabled account again',
  explanation: 'Lets the account log in again. Audited as user.enabled.',
  change: { disabled: false },
  destructive: false,
});

export const promoteUserCommand = accessCommand({
  name: 'promote-user',
  summary: 'make an account an administrator',
  explanation: 'Gives the account the admin role (its next access token carries it). Audited as user.role_changed.',
  change: { role: 'admin' },
  destructive: false,
});

export const demoteUserCommand = accessCommand({
  name: 'demote-user',
  summary: 'take the admin role from an account',
  explanation: 'Makes the account a plain user; its sessions end at once. Audited as user.role_changed.',
  change: { role: 'user' },
  destructive: true,
});
