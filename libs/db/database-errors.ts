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
