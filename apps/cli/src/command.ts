import type { ParseArgsConfig } from 'node:util';
import type { OperatorContext } from './operator-context';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** What a command is run with: its positionals and options as parsed, and where to write. */
export interface CommandInput {
  positionals: string[];
  options: Record<string, string | boolean | (string | boolean)[] | undefined>;
  out: (line: string) => void;
}

/** One operator command: `gigachat <name> …`. */
export interface Command {
  name: string;
  /** One line, for `gigachat --help`. */
  summary: string;
  /** `gigachat <name> --help`: usage and options, one per line. */
  help: string;
  options: OptionSpecs;
  /** Whether it needs the deployment's configuration (and through it MySQL, Redis, Temporal). */
  needsConfig: boolean;
  run(input: CommandInput, context: OperatorContext): Promise<void>;
}

/** A mistake in how a command was called: its message and the command's usage are shown, exit code 2. */
export class UsageError extends Error {}

/** An operator-facing refusal or failure (exit code 1): the message is all the operator needs to read. */
export class CommandError extends Error {}

/** The one positional a command needs, or a usage error naming it. */
export function requirePositional(input: CommandInput, index: number, what: string): string {
  const value = input.positionals[index];
  if (value === undefined || value.trim() === '') throw new UsageError(`missing ${what}`);
  return value.trim();
}

export function stringOption(input: CommandInput, name: string): string | undefined {
  const value = input.options[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole number option within bounds, or its default. */
export function integerOption(
  input: CommandInput,
  name: string,
  bounds: { min: number; max: number },
): number | undefined {
  const text = stringOption(input, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new UsageError(`--${name} must be a whole number from ${bounds.min} to ${bounds.max}`);
  }
  return value;
}
