import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback, type Writable } from 'node:stream';

import { EmptyObjectError, ObjectTooLargeError } from './object-store.errors';

/**
 * Passes bytes through unchanged while counting them and hashing them with SHA-256. It fails with
 * `ObjectTooLargeError` on the first chunk that takes the count past `maxBytes` (that chunk is not passed on) and with
 * `EmptyObjectError` when its input ends without a byte; a failure ends it with an error, never with a clean end, so
 * nothing downstream mistakes a cut-off body for a complete one.
 *
 * Destroying it (which a failure does) also destroys every stream it was `pipe()`d into. `pipe()` alone does not
 * forward a source's error to its destination, and a consumer that only listens on the destination (minio's
 * multipart upload does exactly that) would otherwise wait for an end that never comes.
 */
export class SizeLimitedHashTransform extends Transform {
  #bytes = 0;
  #sha256: string | undefined;
  readonly #hash: Hash | undefined;
  readonly #destinations = new Set<Writable>();

  /** `hash: false` only counts and limits (`sha256` is then empty). */
  constructor(
    private readonly maxBytes: number,
    { hash = true }: { hash?: boolean } = {},
  ) {
    super();
    this.#hash = hash ? createHash('sha256') : undefined;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  }

  /** Bytes passed through so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Lower-case hex SHA-256 of everything passed through; only once the input has ended cleanly. */
  get sha256(): string {
    if (this.#sha256 === undefined) throw new Error('The stream has not ended yet');
    return this.#sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) {
      callback(new ObjectTooLargeError(this.maxBytes));
      return;
    }
    this.#hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#bytes === 0) {
      callback(new EmptyObjectError());
      return;
    }
    this.#sha256 = this.#hash?.digest('hex') ?? '';
    callback();
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const writable = destination as unknown as Writable;
    if (this.destroyed) {
      // Piping a destroyed stream is a silent no-op in Node; fail the destination instead of leaving it waiting.
      writable.destroy(this.errored ?? new Error('The source stream was destroyed'));
      return destination;
    }
    this.#destinations.add(writable);
    return super.pipe(destination, options);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // After a clean end the destinations have been told to end and may still be busy with the last bytes.
    if (error !== null || !this.readableEnded) {
      const reason = error ?? new Error('The source stream was destroyed before it ended');
      for (const destination of this.#destinations) destination.destroy(reason);
    }
    this.#destinations.clear();
    callback(error);
  }
}
