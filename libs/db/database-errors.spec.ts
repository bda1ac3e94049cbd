import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, isDuplicateKey } from './database-errors';

const driverError = (code: string, message = code) => Object.assign(new Error(message), { code });
const queryFailed = (error: Error) => new QueryFailedError('SELECT 1', [], error);

describe('isDatabaseUnavailable', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR'])(
    '%s, bare or inside a QueryFailedError, is the database being unavailable',
    (code) => {
      expect(isDatabaseUnavailable(driverError(code))).toBe(true);
      expect(isDatabaseUnavailable(queryFailed(driverError(code)))).toBe(true);
    },
  );

  it('knows mysql2’s words for a connection it already closed, and looks through causes', () => {
    const closed = new Error("Can't add new command when connection is in closed state");
    expect(isDatabaseUnavailable(closed)).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: driverError('ECONNREFUSED') }))).toBe(true);
  });

  it('is not a query the database refused (our bug or the caller’s), nor anything else', () => {
    expect(isDatabaseUnavailable(queryFailed(driverError('ER_DUP_ENTRY', 'Duplicate entry')))).toBe(false);
    expect(isDatabaseUnavailable(queryFailed(driverError('ER_PARSE_ERROR', 'You have an error in your SQL')))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDuplicateKey(queryFailed(driverError('ER_DUP_ENTRY')))).toBe(true);
  });

  it('stops on a cycle of causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});
