import { z } from 'zod';
import { ToolError, type ToolDefinition, type ToolOutput } from '../tool-definition';

const parameters = z.object({
  timeZone: z
    .string()
    .max(64)
    .optional()
    .describe('An IANA time zone such as "Europe/Paris" or "America/New_York"; UTC when omitted'),
});

export type CurrentTimeArgs = z.infer<typeof parameters>;

export interface CurrentTimeOptions {
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
}

/** `current_time`: the model has no clock of its own and its training data ends at some date. */
export function createCurrentTimeTool(options: CurrentTimeOptions = {}): ToolDefinition<CurrentTimeArgs> {
  const now = options.now ?? (() => new Date());
  return {
    name: 'current_time',
    description: 'Returns the current date and time, in UTC or in the given IANA time zone.',
    parameters,
    timeoutMs: 2_000,
    maxAttempts: 1,
    requiresApproval: false,
    local: true,
    // A promise executor turns a bad zone's synchronous throw into a rejection, as callers of `run` expect.
    run: ({ timeZone = 'UTC' }) => new Promise((resolve) => resolve(describeTime(now(), timeZone))),
  };
}

function describeTime(instant: Date, timeZone: string): ToolOutput {
  const formatter = dateFormatter(timeZone);
  const zone = formatter.resolvedOptions().timeZone;
  const human = formatter.format(instant);
  const content = [`Time zone: ${zone}`, `Local time: ${human}`, `ISO 8601 (UTC): ${instant.toISOString()}`].join('\n');
  return { content, summary: `${human} (${zone})` };
}

/** A formatter for the zone; Intl is the validator, so every zone Node knows is accepted and nothing else. */
function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      dateStyle: 'full',
      timeStyle: 'long',
      hourCycle: 'h23',
    });
  } catch {
    throw new ToolError(`Unknown time zone "${timeZone}": use an IANA name such as "Europe/Paris"`);
  }
}
