import type { AuthErrorCode, CommonErrorCode, ErrorCode, TurnErrorCode } from './error-codes';
import { HTTP_STATUS_OF } from './http-status';

export type { ErrorCode } from './error-codes';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Members of a problem beyond the standard ones (`turnId`, `reason` …); `headers` go on the response instead. */
export interface ErrorExtras {
  errors?: FieldProblem[];
  headers?: Record<string, string>;
  [member: string]: unknown;
}

/**
 * A domain error: a stable code and a human-readable detail. Its HTTP status is the code's, from the one table in
 * `http-status.ts`; nothing that throws chooses a status. One exception filter turns these into problem+json.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: ErrorExtras = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }

  get status(): number {
    return HTTP_STATUS_OF[this.code];
  }
}

/** Sign-in, sessions and the second factor (codes: `AuthErrorCode`). */
export class AuthError extends AppError {
  declare readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, detail: string, extra?: ErrorExtras) {
    super(code, detail, extra);
  }
}

/** A request that runs a chat turn ended without an answer (codes: `TurnErrorCode`, or a model that failed). */
export class TurnError extends AppError {
  declare readonly code: TurnErrorCode | 'upstream_unavailable';
  constructor(code: TurnErrorCode | 'upstream_unavailable', detail: string, extra?: ErrorExtras) {
    super(code, detail, extra);
  }
}

/** Errors any route may answer (codes: `CommonErrorCode`). */
export class CommonError extends AppError {
  declare readonly code: CommonErrorCode;
  constructor(code: CommonErrorCode, detail: string, extra?: ErrorExtras) {
    super(code, detail, extra);
  }
}

export class NotFoundError extends CommonError {
  constructor(what: string) {
    super('not_found', `${what} was not found`);
  }
}

export class ValidationError extends CommonError {
  constructor(errors: FieldProblem[], detail = 'The request is not valid') {
    super('validation_failed', detail, { errors });
  }
}

export class ForbiddenError extends CommonError {
  constructor(detail: string) {
    super('forbidden', detail);
  }
}

export class ConflictError extends CommonError {
  constructor(detail: string, extra: ErrorExtras = {}) {
    super('conflict', detail, extra);
  }
}

/** Our own infrastructure cannot be reached right now; the client should retry after a moment. */
export class ServiceUnavailableError extends CommonError {
  constructor(detail: string, retryAfterSeconds = 5) {
    super('service_unavailable', detail, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

export class UnauthorizedError extends AuthError {
  constructor(detail = 'Authentication is required', code: 'unauthorized' | 'token_expired' = 'unauthorized') {
    super(code, detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}
