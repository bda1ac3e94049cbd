import { ApplicationFailure } from '@temporalio/activity';
import { LlmError } from '#libs/llm/llm.error';

/** A provider that asks for a longer wait than this is retried after this long (the step's retry policy goes on). */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * A provider's error as the retry policy should see it: typed, retryable or not, honouring its Retry-After. Anything
 * else is returned unchanged. Model calls of every step go through it (generation, a replay's judge).
 */
export function toActivityFailure(error: unknown, log: { warn(obj: object, msg: string): void }): unknown {
  if (!(error instanceof LlmError)) return error;
  log.warn({ type: error.type, status: error.status, retryable: error.retryable }, 'generation failed');
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    ...(error.retryAfterMs && error.retryAfterMs > 0
      ? { nextRetryDelay: Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS) }
      : {}),
  });
}
