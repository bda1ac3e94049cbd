import { renameSync, writeFileSync } from 'node:fs';
import type { AppConfig } from '#libs/config/app-config';
import { CommandError, requirePositional, stringOption, UsageError, type Command, type CommandInput } from '../command';
import { confirm } from '../operator-input';
import { formatTokenKeys, newTokenKeyEntry } from '../token-keys';

type TokenKeys = AppConfig['auth']['tokenKeys'];

/** The keys after the step, with the one new tokens are issued with first (PASETO_CURRENT_KEY_ID left empty). */
interface Rotated {
  keys: string;
  current: string;
  next: string;
}

function keyIdOf(input: CommandInput, keys: TokenKeys): string {
  const id = requirePositional(input, 1, '<key id>');
  if (!keys.some((key) => key.id === id)) {
    throw new CommandError(`no key "${id}" in PASETO_KEYS (there are: ${keys.map((key) => key.id).join(', ')})`);
  }
  return id;
}

export const rotateKeyCommand: Command = {
  name: 'rotate-key',
  summary: 'rotate the access-token (PASETO) key: add a new one, switch to it, retire the old one',
  help: [
    'usage: gigachat rotate-key add [--key-id <id>] [--file <path>]',
    '       gigachat rotate-key switch <key id> [--file <path>]',
    '       gigachat rotate-key retire <key id> [--file <path>] [--yes]',
    '',
    'Rotation without logging anyone out, one step per deployment of the new value to every API instance:',
    '  add      a new random key joins PASETO_KEYS; tokens are still issued with the current one',
    '  switch   new tokens are issued with this key (it moves first in PASETO_KEYS); old tokens still verify',
    '  retire   after the access-token lifetime (ACCESS_TOKEN_TTL_SECONDS) has passed since the switch, the old key',
    '           goes; tokens it signed stop working and clients refresh (refresh tokens do not use the key)',
    'The new value is written to --file, or to the file PASETO_KEYS_FILE names (atomically, mode 0600); without',
    'either it is printed. PASETO_CURRENT_KEY_ID should be empty (the first key is then the current one).',
    '',
    '  --key-id <id>  id of the added key (default k<n>, the next free number)',
    '  --file <path>  the secret file holding PASETO_KEYS',
    '  --yes          retire without asking',
  ].join('\n'),
  options: { 'key-id': { type: 'string' }, file: { type: 'string' }, yes: { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const { tokenKeys: keys, currentKeyId } = context.config.auth;
    if (keys.length === 0) throw new CommandError('PASETO_KEYS is empty: make a first key with `gigachat secrets`');
    const step = requirePositional(input, 0, 'add, switch or retire');
    const others = (id: string) => keys.filter((key) => key.id !== id);
    const current = keys.find((key) => key.id === currentKeyId)!;
    let rotated: Rotated;
    switch (step) {
      case 'add': {
        const taken = new Set(keys.map((key) => key.id));
        let id = stringOption(input, 'key-id');
        for (let n = keys.length + 1; id === undefined; n += 1) if (!taken.has(`k${n}`)) id = `k${n}`;
        if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new UsageError('--key-id: 1-32 letters, digits, _ or -');
        if (taken.has(id)) throw new CommandError(`a key "${id}" exists already`);
        rotated = {
          keys: [formatTokenKeys([current, ...others(current.id)]), newTokenKeyEntry(id)].join(','),
          current: current.id,
          next: `deploy it to every API instance, then: gigachat rotate-key switch ${id}`,
        };
        break;
      }
      case 'switch': {
        const id = keyIdOf(input, keys);
        const chosen = keys.find((key) => key.id === id)!;
        rotated = {
          keys: formatTokenKeys([chosen, ...others(id)]),
          current: id,
          next: `deploy it; once ${context.config.auth.accessTokenTtlSeconds} s have passed, retire the old key: gigachat rotate-key retire ${current.id === id ? '<old id>' : current.id}`,
        };
        break;
      }
      case 'retire': {
        const id = keyIdOf(input, keys);
        if (id === currentKeyId) throw new CommandError(`"${id}" is the current key: switch to another one first`);
        await confirm(input, `Access tokens signed with "${id}" stop working (their clients refresh).`);
        rotated = {
          keys: formatTokenKeys([current, ...others(current.id).filter((key) => key.id !== id)]),
          current: current.id,
          next: 'deploy it to every API instance',
        };
        break;
      }
      default:
        throw new UsageError(`unknown step "${step}": add, switch or retire`);
    }

    const file = stringOption(input, 'file') ?? context.config.secretFiles.PASETO_KEYS;
    if (file) {
      const staging = `${file}.${process.pid}.tmp`;
      writeFileSync(staging, `${rotated.keys}\n`, { mode: 0o600 });
      renameSync(staging, file);
      input.out(`PASETO_KEYS written to ${file}; current key: ${rotated.current}`);
    } else {
      input.out(`PASETO_KEYS=${rotated.keys}`);
    }
    input.out(`PASETO_CURRENT_KEY_ID must be empty or "${rotated.current}"`);
    input.out(`next: ${rotated.next}`);
  },
};
