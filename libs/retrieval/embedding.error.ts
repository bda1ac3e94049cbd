/** Stable codes; callers (the ingest activities, the hybrid retriever) switch on these, never on messages. */
export type EmbeddingErrorCode =
  | 'embedding_rate_limited'
  | 'embedding_unavailable'
  | 'embedding_timeout'
  | 'embedding_bad_request'
  | 'embedding_auth'
  | 'embedding_bad_response';

/**
 * A failed call to the embedding provider. `retryable` says whether the same request may succeed later (rate
 * limits, outages, timeouts); 400/401/403/404 and malformed answers are not. The message never holds the API key.
 */
export class EmbeddingError extends Error {
  override readonly name = 'EmbeddingError';

  constructor(
    readonly code: EmbeddingErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }

  static fromStatus(status: number, message: string): EmbeddingError {
    if (status === 429) return new EmbeddingError('embedding_rate_limited', message, true, status);
    if (status === 408) return new EmbeddingError('embedding_timeout', message, true, status);
    if (status === 401 || status === 403) return new EmbeddingError('embedding_auth', message, false, status);
    if (status === 409 || status >= 500) return new EmbeddingError('embedding_unavailable', message, true, status);
    return new EmbeddingError('embedding_bad_request', message, false, status);
  }
}
