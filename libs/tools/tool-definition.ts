import type { z } from 'zod';

/** What a tool knows about the turn that called it. Tools get ids, never the conversation itself. */
export interface ToolContext {
  userId: string;
  turnId: string;
  /** Aborted when the turn is cancelled or the attempt times out; tools pass it on to their I/O. */
  signal: AbortSignal;
  /** The files the user attached to this conversation, for tools that search them. */
  fileIds?: string[];
}

export interface ToolOutput {
  /** Text handed back to the model (already size-limited). */
  content: string;
  /** One line for the stored record and the UI, ≤ 200 chars. */
  summary: string;
}

/**
 * A tool the model may call (OpenAI tool-calling format). The registry validates the model's arguments against
 * `parameters` before `run` is called, so `run` may trust its input's shape. The policy fields tell the turn
 * workflow how to schedule one call: how long an attempt may take, how often to retry, whether a person approves.
 */
// `any` by default so that tools with different argument types fit in one list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ToolDefinition<A = any> {
  /** Matches /^[a-z][a-z0-9_]{0,63}$/ (what OpenAI accepts, minus the characters we never use). */
  name: string;
  description: string;
  /** Validated before the call; also the source of the JSON schema shown to the model. */
  parameters: z.ZodType<A>;
  /** Time allowed for one attempt. */
  timeoutMs: number;
  /** Retry policy: 1 means no retry. Only retryable `ToolError`s (and unknown errors) are retried. */
  maxAttempts: number;
  requiresApproval: boolean;
  /**
   * Pure and quick (in memory, well under a second): runs as a local activity, inside the workflow task that received
   * the model's request, instead of a round trip through the Temporal server. Never for network I/O.
   */
  local?: boolean;
  run(args: A, ctx: ToolContext): Promise<ToolOutput>;
}

/**
 * Thrown by a tool for a failure it can explain to the model. `retryable` is false (the default) for failures
 * that another attempt cannot fix (bad URL, refused address, division by zero...), true for transient ones
 * (network errors, a 5xx from upstream). The message is meant to be shown to the model.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';

  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** Shortens one line to `max` characters, for summaries. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
