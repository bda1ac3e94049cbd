import { config as loadDotEnv } from 'dotenv';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import 'reflect-metadata';
import { ConfigError, loadConfig } from '#libs/config/load-config';
import { inSpan } from '#libs/telemetry/tracing';
import { CommandError, UsageError, type Command } from './command';
import { createAdminCommand } from './commands/create-admin.command';
import { inviteCommand } from './commands/invite.command';
import { migrationsCommand } from './commands/migrations.command';
import { purgeCommand } from './commands/purge.command';
import { reembedCommand } from './commands/reembed.command';
import { reencryptFilesCommand } from './commands/reencrypt-files.command';
import { resetPasswordCommand } from './commands/reset-password.command';
import { rotateKeyCommand } from './commands/rotate-key.command';
import { secretsCommand } from './commands/secrets.command';
import {
  demoteUserCommand,
  disableUserCommand,
  enableUserCommand,
  promoteUserCommand,
} from './commands/user-access.command';
import { OperatorContext } from './operator-context';

const COMMANDS: Command[] = [
  secretsCommand,
  createAdminCommand,
  inviteCommand,
  disableUserCommand,
  enableUserCommand,
  promoteUserCommand,
  demoteUserCommand,
  resetPasswordCommand,
  rotateKeyCommand,
  reembedCommand,
  reencryptFilesCommand,
  purgeCommand,
  migrationsCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'usage: gigachat <command> [options]      (npm run gigachat -- <command>; in the image: gigachat <command>)',
    '',
    'The operator commands of a GigaChat deployment. They read the same configuration as the API and the worker',
    '(the environment, a .env file in the working directory, <NAME>_FILE secrets). `gigachat <command> --help`',
    'explains one. Destructive commands ask first, or take --yes.',
    '',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

/** Runs one command line; answers the exit code (0 done, 1 refused or failed, 2 called wrongly). */
export async function main(argv: string[], out = (line: string) => console.log(line)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(overview());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((each) => each.name === name);
  if (!command) {
    console.error(`gigachat: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`gigachat ${name}: ${(error as Error).message}\n\n${command.help}`);
    return 2;
  }
  if (parsed.values.help === true) {
    out(command.help);
    return 0;
  }

  let context: OperatorContext | undefined;
  try {
    loadDotEnv({ quiet: true });
    const operator = new OperatorContext(command.needsConfig ? loadConfig() : undefined, randomUUID());
    context = operator;
    const { positionals, values } = parsed;
    await inSpan(`gigachat ${name}`, () => command.run({ positionals, options: values, out }, operator));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`gigachat ${name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    if (error instanceof CommandError || error instanceof ConfigError) {
      console.error(`gigachat ${name}: ${error.message}`);
      return 1;
    }
    // The stack only when asked for (LOG_LEVEL=debug): an operator mostly needs the message (a refused connection …).
    const verbose = context?.logLevel === 'debug' || context?.logLevel === 'trace';
    const detail = error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
    console.error(`gigachat ${name} failed: ${detail}`);
    return 1;
  } finally {
    await context?.close();
  }
}
