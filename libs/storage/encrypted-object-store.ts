import { pipeline, Readable } from 'node:stream';
import type { ObjectStore, PutObjectOptions, PutObjectResult } from './object-store';
import { ObjectNotFoundError } from './object-store.errors';
import {
  DATA_KEY_BYTES,
  ENCRYPTED_OBJECT_MAGIC,
  FRAME_BYTES,
  FRAME_OVERHEAD_BYTES,
  KEY_OBJECT_MAGIC,
  type KeyEnvelope,
  keyObjectKeyFor,
  type MasterKeys,
  MAX_HEADER_BYTES,
  ObjectDecryptionError,
  OpenTransform,
  plaintextSize,
  readHeader,
  readKeyEnvelope,
  SealTransform,
  startsWith,
  unwrapDataKey,
  wrapDataKey,
} from './sealed-object';
import { SizeLimitedHashTransform } from './size-limited-hash.transform';

export { ENCRYPTED_OBJECT_MAGIC, FRAME_BYTES, KEY_OBJECT_MAGIC, keyObjectKeyFor, ObjectDecryptionError };

/** One master key of `FILES_ENCRYPTION_KEYS`: it wraps the data key of every file sealed while it is the first. */
export interface FileMasterKey {
  id: string;
  key: Uint8Array;
}

/** Where an object stands against the current master key after `rewrap`. */
export type RewrapOutcome = 'current' | 'rewrapped' | 'clear';

/**
 * Envelope encryption in front of any object store (S3 or the local directory), so every file is sealed before it
 * reaches the store and opened as it streams back. Each object gets its own random AES-256 data key, wrapped
 * (AES-256-GCM) by the current master key, whose id is in the header, with the object key bound in: an object copied
 * under another user's key does not open. The body is a sequence of AES-256-GCM frames of {@link FRAME_BYTES}; each
 * frame's nonce holds its index and a last-frame flag, so reordered, dropped or truncated frames fail to open. The
 * formats are in `sealed-object.ts`.
 *
 * Rotation re-wraps rather than rewrites: `rewrap` puts the object's data key, wrapped by the current master key,
 * into a small key object beside it (`<key>.key`), so the key in the header can retire while the body stays as it is.
 *
 * `put` and `stat` report the plaintext's size (what the user uploaded), `put` its SHA-256 too.
 */
export class EncryptedObjectStore implements ObjectStore {
  readonly #keys: MasterKeys;

  constructor(
    private readonly inner: ObjectStore,
    keys: readonly FileMasterKey[],
  ) {
    const [current] = keys;
    if (!current) throw new Error('EncryptedObjectStore needs at least one master key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== DATA_KEY_BYTES) throw new Error(`File master key "${id}" must be ${DATA_KEY_BYTES} bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
        throw new Error(`File master key id "${id}" is not 1-32 of A-Z a-z 0-9 _ -`);
      byId.set(id, Buffer.from(key));
    }
    this.#keys = { currentId: current.id, byId };
  }

  get driver(): ObjectStore['driver'] {
    return this.inner.driver;
  }

  /** The id of the current master key: what new objects are sealed (and data keys re-wrapped) under. */
  get currentKeyId(): string {
    return this.#keys.currentId;
  }

  ensureReady(): Promise<void> {
    return this.inner.ensureReady();
  }

  checkReady(): Promise<void> {
    return this.inner.checkReady();
  }

  async put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult> {
    const meter = new SizeLimitedHashTransform(opts.maxBytes);
    const seal = new SealTransform(this.#keys, key);
    // The meter counts and hashes the plaintext and enforces the limit; the store beneath sees only ciphertext.
    pipeline(body, meter, seal, () => undefined);
    const frames = Math.ceil(opts.maxBytes / FRAME_BYTES) + 1;
    try {
      await this.inner.put(key, seal, {
        ...opts,
        maxBytes: opts.maxBytes + MAX_HEADER_BYTES + frames * FRAME_OVERHEAD_BYTES,
        // The plaintext's hash is the one reported; hashing the ciphertext too would be a second pass for nothing.
        sha256: false,
      });
    } catch (error) {
      throw meter.errored ?? error;
    }
    return { size: meter.bytes, sha256: meter.sha256 };
  }

  async get(key: string): Promise<Readable> {
    const stored = await this.inner.get(key);
    const open = new OpenTransform(this.#keys, key, () => this.#readKeyObject(key));
    pipeline(stored, open, () => undefined);
    return open;
  }

  /** The plaintext's size, worked out from the stored size and the header (its first bytes are read for that). */
  async stat(key: string): Promise<{ size: number } | null> {
    const stored = await this.inner.stat(key);
    if (!stored) return null;
    const head = await firstBytes(await this.inner.get(key), MAX_HEADER_BYTES);
    if (head.length <= ENCRYPTED_OBJECT_MAGIC.length || !startsWith(head, ENCRYPTED_OBJECT_MAGIC)) return stored;
    const header = readHeader(head);
    if (!header) throw new ObjectDecryptionError(`Stored object ${key} is truncated (header)`);
    return { size: plaintextSize(stored.size, header) };
  }

  /**
   * Brings the object's data key under the current master key without touching the object: `current` when it already
   * is (in the header or in its key object), `rewrapped` after writing the key object, `clear` for an object stored
   * before encryption (only `reseal` helps it). Reads the header only. `ObjectNotFoundError` when there is no object,
   * `ObjectDecryptionError` when none of the configured keys opens its data key.
   */
  async rewrap(key: string): Promise<RewrapOutcome> {
    const head = await firstBytes(await this.inner.get(key), MAX_HEADER_BYTES);
    if (head.length <= ENCRYPTED_OBJECT_MAGIC.length || !startsWith(head, ENCRYPTED_OBJECT_MAGIC)) return 'clear';
    const header = readHeader(head);
    if (!header) throw new ObjectDecryptionError(`Stored object ${key} is truncated (header)`);
    if (header.envelope.keyId === this.#keys.currentId) return 'current';
    const keyObject = await this.#readKeyObject(key);
    if (keyObject?.keyId === this.#keys.currentId) return 'current';
    const dataKey =
      unwrapDataKey(this.#keys, header.envelope, key) ?? (keyObject && unwrapDataKey(this.#keys, keyObject, key));
    if (!dataKey) {
      throw new ObjectDecryptionError(
        `Stored object ${key} is sealed with master key "${header.envelope.keyId}", which is not in FILES_ENCRYPTION_KEYS`,
      );
    }
    const envelope = Buffer.concat([KEY_OBJECT_MAGIC, wrapDataKey(this.#keys, this.#keys.currentId, key, dataKey)]);
    await this.inner.put(keyObjectKeyFor(key), Readable.from([envelope]), { maxBytes: envelope.length });
    return 'rewrapped';
  }

  /**
   * Rewrites the object under the current master key with a new data key (a clear object gets sealed): streamed out
   * and back in, and the put replaces the object only once every byte is stored. Its key object, now stale, goes.
   */
  async reseal(key: string): Promise<void> {
    const size = (await this.stat(key))?.size;
    if (size === undefined) throw new ObjectNotFoundError(key);
    await this.put(key, await this.get(key), { maxBytes: Math.max(1, size) });
    await this.inner.delete(keyObjectKeyFor(key));
  }

  /** Removes the object and its key object, if it has one. */
  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    await this.inner.delete(keyObjectKeyFor(key));
  }

  /** Key objects share their object's key as a prefix, so they go with it. */
  deletePrefix(prefix: string): Promise<number> {
    return this.inner.deletePrefix(prefix);
  }

  /** The key envelope in the key object beside `key`, or null when there is none. */
  async #readKeyObject(key: string): Promise<KeyEnvelope | null> {
    let bytes: Buffer;
    try {
      bytes = await firstBytes(await this.inner.get(keyObjectKeyFor(key)), MAX_HEADER_BYTES);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return null;
      throw error;
    }
    const read = startsWith(bytes, KEY_OBJECT_MAGIC) ? readKeyEnvelope(bytes, KEY_OBJECT_MAGIC.length) : null;
    if (!read) throw new ObjectDecryptionError(`The key object of ${key} is malformed`);
    return read.envelope;
  }
}

/** Reads up to `count` bytes from the start of `stream`, then lets it go. */
async function firstBytes(stream: Readable, count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= count) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, count);
}
