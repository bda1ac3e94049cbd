/** Stable machine codes shared by every error response (see shared/API.md, "Errors"). */
export type ErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'invalid_credentials'
  | 'account_locked'
  | 'mfa_required'
  | 'unauthorized'
  | 'token_expired'
  | 'forbidden'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'email_taken'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_acceptable'
  | 'upstream_unavailable'
  | 'turn_failed'
  | 'turn_timeout'
  | 'internal_error';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A domain error: a stable code, the HTTP status it maps to and a human-readable detail. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldProblem[]; headers?: Record<string, string>; [key: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', 404, `${what} was not found`);
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldProblem[], detail = 'The request is not valid') {
    super('validation_failed', 400, detail, { errors });
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'Authentication is required', code: 'unauthorized' | 'token_expired' = 'unauthorized') {
    super(code, 401, detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}
