import type { Readable } from 'node:stream';

export { objectKeyFor, userPrefixFor } from './object-key';

export interface PutObjectOptions {
  /** The upload fails with `ObjectTooLargeError` as soon as more than this many bytes have streamed through. */
  maxBytes: number;
  contentType?: string;
  /**
   * Hash the bytes with SHA-256 while they stream (default true). False when the caller hashes what it was given and
   * the store holds something else (the encrypted store reports its plaintext's hash, not the ciphertext's).
   */
  sha256?: boolean;
}

export interface PutObjectResult {
  /** Bytes stored. */
  size: number;
  /** Lower-case hex SHA-256 of the bytes stored, computed while streaming; empty when `sha256: false` was asked. */
  sha256: string;
}

/**
 * Where uploaded files' bytes live: an S3-compatible bucket, or a local directory when no S3 endpoint is configured.
 * Keys come from `objectKeyFor` (ids only); a key outside the format (see `object-key.ts`) is refused with
 * `InvalidObjectKeyError` by every method. Bodies are streamed, never held in memory whole.
 */
export interface ObjectStore {
  readonly driver: 's3' | 'local';

  /** Creates the bucket or the directory when it is missing. Call once at start-up. */
  ensureReady(): Promise<void>;
  /** Read-only readiness probe: throws when the bucket (or directory) is missing or the store cannot be reached. */
  checkReady(): Promise<void>;

  /**
   * Streams `body` into the object at `key`, replacing any object there only once every byte is stored: a put is
   * all or nothing. Failures leave the key as it was and nothing else behind (no temp file, no incomplete multipart
   * upload): `ObjectTooLargeError` as soon as more than `maxBytes` bytes have passed (`body` is destroyed then, not
   * read to its end), `EmptyObjectError` when `body` ends without a byte, or `body`'s own error.
   */
  put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult>;

  /** The object's bytes as a stream; `ObjectNotFoundError` when there is none. */
  get(key: string): Promise<Readable>;

  /** The object's size, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;

  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Removes every object whose key starts with `prefix` (plain string comparison, as in S3) and any upload to such a
   * key still in progress; returns how many objects were removed.
   */
  deletePrefix(prefix: string): Promise<number>;
}
