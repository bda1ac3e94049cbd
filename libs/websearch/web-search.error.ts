/** Why a web search failed; callers switch on this, never on messages. */
export type WebSearchErrorReason =
  'timeout' | 'rate_limited' | 'blocked' | 'bad_response' | 'unreachable' | 'http_error';

export interface WebSearchErrorOptions {
  /** The HTTP status, when the provider answered. */
  status?: number;
  /** From `Retry-After`, when the provider sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failed call to the web search provider (SearxNG). */
export class WebSearchError extends Error {
  override readonly name = 'WebSearchError';
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly reason: WebSearchErrorReason,
    message: string,
    options: WebSearchErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True for failures that say the provider is unwell (open the circuit): not for a request it merely refused. */
  get isProviderFailure(): boolean {
    if (this.reason === 'http_error') return (this.status ?? 0) >= 500;
    return this.reason !== 'bad_response';
  }
}
