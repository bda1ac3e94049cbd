import type { ErrorCode } from './error-codes';

/** The one table from error code to HTTP status. A code never answers with two statuses. */
export const HTTP_STATUS_OF: { readonly [code in ErrorCode]: number } = {
  validation_failed: 400,
  invalid_json: 400,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 409,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_unavailable: 502,
  service_unavailable: 503,
  internal_error: 500,

  unauthorized: 401,
  token_expired: 401,
  invalid_credentials: 401,
  mfa_required: 401,
  account_locked: 423,
  email_taken: 409,

  turn_failed: 502,
  turn_cancelled: 409,
  turn_timeout: 504,
  idempotency_key_reused: 422,
};

/** The code that stands for a bare HTTP status (an error Nest raised itself, before our code ran). */
export const CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};
