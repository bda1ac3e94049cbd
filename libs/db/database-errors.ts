import { QueryFailedError } from 'typeorm';

/** A unique index refused the row: someone else wrote the same key first (an email, an Idempotency-Key …). */
export function isDuplicateKey(error: unknown): boolean {
  return (
    error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === 'ER_DUP_ENTRY'
  );
}

/** A foreign key refused the row: what it refers to is gone (deleted meanwhile). */
export function isMissingReference(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === 'ER_NO_REFERENCED_ROW_2'
  );
}

/** mysql2 / Node socket codes that mean the database server cannot be reached or dropped the connection. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_TOO_MANY_USER_CONNECTIONS',
]);
/** mysql2's words for a connection it already knows is dead (no code on these). */
const UNREACHABLE_MESSAGE = /connection is in closed state|Connection lost|Pool is closed|connect ETIMEDOUT/i;

/**
 * The database is down or unreachable (refused, reset, timed out, shutting down, out of connections) rather than the
 * query being wrong: a request that meets it should be retried, not reported as our bug. Looks through TypeORM's
 * `driverError` and `cause` chains.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}
