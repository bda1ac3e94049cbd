import { createInterface } from 'node:readline/promises';
import { isEmail } from 'class-validator';
import { CommandError, UsageError, type CommandInput } from './command';

/**
 * A destructive command goes ahead only with `--yes`, or when the operator types `yes` at a terminal. Without a
 * terminal (a script, CI) and without `--yes`, it refuses rather than guess.
 */
export async function confirm(input: CommandInput, question: string): Promise<void> {
  if (input.options.yes === true) return;
  if (!process.stdin.isTTY) {
    throw new CommandError(`${question} Refusing without --yes (there is no terminal to ask on).`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== 'yes') throw new CommandError('Cancelled; nothing was changed.');
  } finally {
    prompt.close();
  }
}

/** Everything on standard input, without its trailing line break (`--password-stdin`). */
export async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** An address as the API stores it (trimmed, lower-cased, NFC), or a usage error. */
export function normalisedEmail(value: string): string {
  const email = value.trim().toLowerCase().normalize('NFC');
  if (!isEmail(email) || email.length > 254) throw new UsageError(`not an email address: ${value}`);
  return email;
}
