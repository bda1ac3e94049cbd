import { QueryFailedError } from 'typeorm';

/** A unique index refused the row: someone else wrote the same key first (an email, an Idempotency-Key …). */
export function isDuplicateKey(error: unknown): boolean {
  return (
    error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === 'ER_DUP_ENTRY'
  );
}
