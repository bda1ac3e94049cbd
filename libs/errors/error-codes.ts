/**
 * Every stable machine code an HTTP error answers with (`code` in problem+json, see shared/API.md "Errors"), one set
 * per domain. Each code has exactly one HTTP status, in `http-status.ts`; a test keeps the two in step.
 */

/** Codes any route may answer: request shape, routing, generic conflicts, our own infrastructure. */
export const CommonErrorCode = {
  validationFailed: 'validation_failed',
  invalidJson: 'invalid_json',
  notFound: 'not_found',
  routeNotFound: 'route_not_found',
  methodNotAllowed: 'method_not_allowed',
  notAcceptable: 'not_acceptable',
  conflict: 'conflict',
  forbidden: 'forbidden',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  rateLimited: 'rate_limited',
  /** An outside service (a model provider) failed past its retries. */
  upstreamUnavailable: 'upstream_unavailable',
  /** Our own infrastructure (MySQL, Redis, Temporal, the object store) cannot be reached right now: retry. */
  serviceUnavailable: 'service_unavailable',
  internalError: 'internal_error',
} as const;
export type CommonErrorCode = (typeof CommonErrorCode)[keyof typeof CommonErrorCode];

/** Identity: sign-in, sessions, second factor. */
export const AuthErrorCode = {
  unauthorized: 'unauthorized',
  tokenExpired: 'token_expired',
  invalidCredentials: 'invalid_credentials',
  mfaRequired: 'mfa_required',
  accountLocked: 'account_locked',
  emailTaken: 'email_taken',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** Chat turns: how a request that runs a turn can end without an answer. */
export const TurnErrorCode = {
  /** The turn failed (its `reason` says why); a model that could not answer is `upstream_unavailable`. */
  turnFailed: 'turn_failed',
  /** The user cancelled the turn before any of the answer was generated. */
  turnCancelled: 'turn_cancelled',
  /** The request stopped waiting; the turn goes on (`turnId`, `turnUrl` in the body). */
  turnTimeout: 'turn_timeout',
  /** The Idempotency-Key was used before for a different request. */
  idempotencyKeyReused: 'idempotency_key_reused',
} as const;
export type TurnErrorCode = (typeof TurnErrorCode)[keyof typeof TurnErrorCode];

export const ERROR_CODE_DOMAINS = { common: CommonErrorCode, auth: AuthErrorCode, turn: TurnErrorCode } as const;

export type ErrorCode = CommonErrorCode | AuthErrorCode | TurnErrorCode;
