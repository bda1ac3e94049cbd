import { ValidationError } from '#libs/errors/app-error';

/** Opaque cursor of the audit log: the id of the last row of a page (ids only grow). */
export function encodeAuditCursor(id: string): string {
  return Buffer.from(`audit:${id}`, 'utf8').toString('base64url');
}

export function decodeAuditCursor(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^audit:([1-9][0-9]{0,19})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (match?.[1] && BigInt(match[1]) <= 18_446_744_073_709_551_615n) return match[1];
  throw new ValidationError([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
}
