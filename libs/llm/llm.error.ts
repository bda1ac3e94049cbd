/** Stable error types; callers (activities, the API's error filter) switch on these, never on messages. */
export type LlmErrorType =
  | 'llm_rate_limited'
  | 'llm_unavailable'
  | 'llm_timeout'
  | 'llm_bad_request'
  | 'llm_auth'
  | 'llm_aborted'
  | 'llm_unknown_model';

export interface LlmErrorOptions {
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed call to a language model. `retryable` says whether the same request may succeed later (rate limits,
 * outages, timeouts); the caller owns the retry policy (Temporal), providers never retry on their own.
 */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly type: LlmErrorType;
  readonly retryable: boolean;
  readonly status?: number;
  /** How long the provider asked us to wait before retrying (from `Retry-After` / `retry-after-ms`). */
  readonly retryAfterMs?: number;

  constructor(type: LlmErrorType, message: string, options: LlmErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = type;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Classifies an HTTP error status from a provider. */
  static fromStatus(status: number, message: string, extra: { retryAfterMs?: number; cause?: unknown } = {}): LlmError {
    const { type, retryable } = classifyStatus(status);
    return new LlmError(type, message, { retryable, status, ...extra });
  }

  static aborted(message = 'The generation was aborted', cause?: unknown): LlmError {
    return new LlmError('llm_aborted', message, { retryable: false, cause });
  }

  /** The model asked for is served by no configured provider. */
  static unknownModel(model: string): LlmError {
    return new LlmError('llm_unknown_model', `No configured provider serves the model "${model}"`, {
      retryable: false,
    });
  }

  static timeout(message: string, cause?: unknown): LlmError {
    return new LlmError('llm_timeout', message, { retryable: true, cause });
  }

  static unavailable(message: string, cause?: unknown): LlmError {
    return new LlmError('llm_unavailable', message, { retryable: true, cause });
  }
}

function classifyStatus(status: number): { type: LlmErrorType; retryable: boolean } {
  if (status === 429) return { type: 'llm_rate_limited', retryable: true };
  if (status === 408) return { type: 'llm_timeout', retryable: true };
  // 409 is what OpenAI answers for a lock timeout; its SDK retries it too.
  if (status === 409 || status >= 500) return { type: 'llm_unavailable', retryable: true };
  if (status === 401 || status === 403) return { type: 'llm_auth', retryable: false };
  // 400, 404 (unknown model), 413, 422 and anything else the provider refuses outright.
  if (status >= 400) return { type: 'llm_bad_request', retryable: false };
  // A non-error status reported as an error is a broken provider; another attempt may do better.
  return { type: 'llm_unavailable', retryable: true };
}
