import { InvalidObjectKeyError } from './object-store.errors';

/** S3's limit on a key's length, in UTF-8 bytes; our keys are ASCII. */
const MAX_KEY_LENGTH = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * One path segment of a key: letters, digits, `.`, `_`, `-`, never starting with a dot. This rules out `.` and `..`
 * (path traversal), hidden names (the local driver's temp files start with a dot), backslashes, NUL and every other
 * control or non-ASCII character; splitting on `/` rules out absolute paths and empty segments (`a//b`, `a/`).
 */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The key of a user's uploaded file. Both parts are ids, never names a user chose. */
export function objectKeyFor(userId: string, fileId: string): string {
  return `${userPrefixFor(userId)}files/${uuid(fileId, 'fileId')}`;
}

/** The prefix under which every object of a user lives (for `deletePrefix` when an account is deleted). */
export function userPrefixFor(userId: string): string {
  return `users/${uuid(userId, 'userId')}/`;
}

/** Throws `InvalidObjectKeyError` unless `key` is in the store's key format (see `SEGMENT`). */
export function assertValidObjectKey(key: string): void {
  if (key.length === 0) throw new InvalidObjectKeyError('the key is empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidObjectKeyError(`the key is longer than ${MAX_KEY_LENGTH}`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new InvalidObjectKeyError(
        'every /-separated segment must be non-empty, must not start with a dot and may hold only A-Z a-z 0-9 . _ -',
      );
    }
  }
}

/**
 * Throws `InvalidObjectKeyError` unless `prefix` is a non-empty key prefix: a valid key, optionally followed by `/`.
 * A prefix matches keys by plain string comparison, as in S3 (`users/a` matches `users/ab/…` too; end it with `/` to
 * stay inside one "directory"). The empty prefix, which would match everything, is refused.
 */
export function assertValidObjectPrefix(prefix: string): void {
  assertValidObjectKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

function uuid(value: string, name: string): string {
  if (!UUID.test(value)) throw new InvalidObjectKeyError(`${name} must be a UUID`);
  return value.toLowerCase();
}
