import * as fc from 'fast-check';
import { AppError } from '#libs/errors/app-error';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor';

describe('audit cursor', () => {
  it('round-trips any row id', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 18_446_744_073_709_551_615n }), (id) => {
        expect(decodeAuditCursor(encodeAuditCursor(String(id)))).toBe(String(id));
      }),
    );
  });

  it('reads no cursor as the first page', () => {
    expect(decodeAuditCursor(undefined)).toBeUndefined();
    expect(decodeAuditCursor('')).toBeUndefined();
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['a zero id', encodeAuditCursor('0')],
    ['a negative id', Buffer.from('audit:-1').toString('base64url')],
    ['an id past BIGINT UNSIGNED', encodeAuditCursor('18446744073709551616')],
    ['another kind of cursor', Buffer.from('["2020-01-01T00:00:00.000Z","x"]').toString('base64url')],
  ])('refuses %s as a 400 naming the cursor', (_what, value) => {
    let caught: unknown;
    try {
      decodeAuditCursor(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).extra.errors).toEqual([
      { field: 'cursor', message: 'is not a cursor this API returned' },
    ]);
  });
});
