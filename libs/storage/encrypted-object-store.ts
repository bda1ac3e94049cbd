import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { ObjectStore, PutObjectOptions, PutObjectResult } from './object-store';
import { SizeLimitedHashTransform } from './size-limited-hash.transform';

/** One master key of `FILES_ENCRYPTION_KEYS`: it wraps the data key of every file sealed while it is the first. */
export interface FileMasterKey {
  id: string;
  key: Uint8Array;
}

/** The first bytes of every object sealed here; an object without them is a clear one from before (read as is). */
export const ENCRYPTED_OBJECT_MAGIC = Buffer.from('GCENC\x00v1', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX_BYTES = 7;
/** Plaintext bytes per frame: memory stays at about two frames whatever the file's size. */
export const FRAME_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = ENCRYPTED_OBJECT_MAGIC.length + 1 + 255 + IV_BYTES + KEY_BYTES + TAG_BYTES + PREFIX_BYTES + 4;

/** A sealed object that does not open: its master key is not configured, or its bytes were altered or cut short. */
export class ObjectDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectDecryptionError';
  }
}

/**
 * Envelope encryption in front of any object store (S3 or the local directory), so every file is sealed before it
 * reaches the store and opened as it streams back. Each object gets its own random AES-256 data key, wrapped
 * (AES-256-GCM) by the current master key, whose id is in the header, with the object key bound in: an object copied
 * under another user's key does not open. The body is a sequence of AES-256-GCM frames of {@link FRAME_BYTES}; each
 * frame's nonce holds its index and a last-frame flag, so reordered, dropped or truncated frames fail to open.
 *
 * Layout: magic (8) · key id length (1) · key id · wrap IV (12) · wrapped data key (32) · wrap tag (16) · nonce
 * prefix (7) · frame size (u32) · frames (ciphertext + tag 16 each).
 *
 * `put` and `stat` report the plaintext's size (what the user uploaded), `put` its SHA-256 too.
 */
export class EncryptedObjectStore implements ObjectStore {
  readonly #current: FileMasterKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(
    private readonly inner: ObjectStore,
    keys: readonly FileMasterKey[],
  ) {
    const [current] = keys;
    if (!current) throw new Error('EncryptedObjectStore needs at least one master key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`File master key "${id}" must be ${KEY_BYTES} bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
        throw new Error(`File master key id "${id}" is not 1-32 of A-Z a-z 0-9 _ -`);
      byId.set(id, Buffer.from(key));
    }
    this.#current = current;
    this.#keys = byId;
  }

  get driver(): ObjectStore['driver'] {
    return this.inner.driver;
  }

  ensureReady(): Promise<void> {
    return this.inner.ensureReady();
  }

  checkReady(): Promise<void> {
    return this.inner.checkReady();
  }

  async put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult> {
    const meter = new SizeLimitedHashTransform(opts.maxBytes);
    const seal = new SealTransform(this.#current.id, this.#keys.get(this.#current.id)!, key);
    // The meter counts and hashes the plaintext and enforces the limit; the store beneath sees only ciphertext.
    pipeline(body, meter, seal, () => undefined);
    const frames = Math.ceil(opts.maxBytes / FRAME_BYTES) + 1;
    try {
      await this.inner.put(key, seal, {
        ...opts,
        maxBytes: opts.maxBytes + MAX_HEADER_BYTES + frames * TAG_BYTES,
      });
    } catch (error) {
      throw meter.errored ?? error;
    }
    return { size: meter.bytes, sha256: meter.sha256 };
  }

  async get(key: string): Promise<Readable> {
    const stored = await this.inner.get(key);
    const open = new OpenTransform(this.#keys, key);
    pipeline(stored, open, () => undefined);
    return open;
  }

  /** The id of the key the current master key is: what new objects are sealed under. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /**
   * The id of the master key that sealed the object at `key`, or null for a clear object (stored before encryption);
   * `ObjectNotFoundError` when there is none. Reads the header only.
   */
  async sealedWith(key: string): Promise<string | null> {
    const magic = ENCRYPTED_OBJECT_MAGIC.length;
    const head = await firstBytes(await this.inner.get(key), magic + 1 + 255);
    if (head.length <= magic || !head.subarray(0, magic).equals(ENCRYPTED_OBJECT_MAGIC)) return null;
    return head.subarray(magic + 1, magic + 1 + head[magic]!).toString('utf8');
  }

  /** The plaintext's size, worked out from the stored size and the header (its first bytes are read for that). */
  async stat(key: string): Promise<{ size: number } | null> {
    const stored = await this.inner.stat(key);
    if (!stored) return null;
    const head = await firstBytes(await this.inner.get(key), ENCRYPTED_OBJECT_MAGIC.length + 1);
    if (
      head.length <= ENCRYPTED_OBJECT_MAGIC.length ||
      !head.subarray(0, ENCRYPTED_OBJECT_MAGIC.length).equals(ENCRYPTED_OBJECT_MAGIC)
    ) {
      return stored;
    }
    const header =
      ENCRYPTED_OBJECT_MAGIC.length +
      1 +
      head[ENCRYPTED_OBJECT_MAGIC.length]! +
      IV_BYTES +
      KEY_BYTES +
      TAG_BYTES +
      PREFIX_BYTES +
      4;
    const body = stored.size - header;
    const frames = Math.ceil(body / (FRAME_BYTES + TAG_BYTES));
    return { size: Math.max(0, body - frames * TAG_BYTES) };
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.inner.deletePrefix(prefix);
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

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const out = Buffer.alloc(IV_BYTES);
  prefix.copy(out, 0);
  out.writeUInt32BE(index, PREFIX_BYTES);
  out[IV_BYTES - 1] = last ? 1 : 0;
  return out;
}

function wrapAad(keyId: string, objectKey: string): Buffer {
  return Buffer.from(`gigachat file key\n${keyId}\n${objectKey}`, 'utf8');
}

/** Plaintext in, header then frames out; holds back one frame so the last one is known and flagged. */
class SealTransform extends Transform {
  readonly #dataKey = randomBytes(KEY_BYTES);
  readonly #prefix = randomBytes(PREFIX_BYTES);
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;

  constructor(
    private readonly keyId: string,
    masterKey: Buffer,
    objectKey: string,
  ) {
    // Room for a few frames on each side, so 64 KiB frames do not stall against the default 16 KiB buffers.
    super({ highWaterMark: 4 * FRAME_BYTES });
    const wrapIv = randomBytes(IV_BYTES);
    const wrap = createCipheriv('aes-256-gcm', masterKey, wrapIv, { authTagLength: TAG_BYTES });
    wrap.setAAD(wrapAad(keyId, objectKey));
    const wrapped = Buffer.concat([wrap.update(this.#dataKey), wrap.final()]);
    const id = Buffer.from(keyId, 'utf8');
    const frameSize = Buffer.alloc(4);
    frameSize.writeUInt32BE(FRAME_BYTES, 0);
    this.push(
      Buffer.concat([
        ENCRYPTED_OBJECT_MAGIC,
        Buffer.from([id.length]),
        id,
        wrapIv,
        wrapped,
        wrap.getAuthTag(),
        this.#prefix,
        frameSize,
      ]),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    // Strictly more than a frame: the bytes after it prove this frame is not the last.
    if (this.#pendingBytes > FRAME_BYTES) {
      const all = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending);
      let at = 0;
      for (; all.length - at > FRAME_BYTES; at += FRAME_BYTES) this.#frame(all.subarray(at, at + FRAME_BYTES), false);
      const rest = all.subarray(at);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#frame(Buffer.concat(this.#pending), true);
    this.#pending = [];
    callback();
  }

  /** Pushes one frame: its ciphertext, then its tag (no copy into one buffer). */
  #frame(plain: Buffer, last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.#dataKey, nonce(this.#prefix, this.#index, last), {
      authTagLength: TAG_BYTES,
    });
    this.#index += 1;
    this.push(cipher.update(plain));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
}

/** Stored bytes in, plaintext out: clear objects (no magic) pass through, sealed ones are opened frame by frame. */
class OpenTransform extends Transform {
  #mode: 'head' | 'clear' | 'frames' = 'head';
  #buffer: Buffer = Buffer.alloc(0);
  #dataKey: Buffer | undefined;
  #prefix: Buffer | undefined;
  #frameBytes = 0;
  #index = 0;

  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly objectKey: string,
  ) {
    super({ highWaterMark: 4 * FRAME_BYTES });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#mode === 'clear') {
      callback(null, chunk);
      return;
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      if (this.#mode === 'head') this.#readHead(false);
      if (this.#mode === 'frames') this.#openFrames(false);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.#mode === 'head') this.#readHead(true);
      if (this.#mode === 'frames') this.#openFrames(true);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  #readHead(ended: boolean): void {
    const magic = ENCRYPTED_OBJECT_MAGIC.length;
    const comparable = Math.min(this.#buffer.length, magic);
    if (!this.#buffer.subarray(0, comparable).equals(ENCRYPTED_OBJECT_MAGIC.subarray(0, comparable))) {
      return this.#passClear();
    }
    if (this.#buffer.length < magic + 1) {
      if (ended) this.#passClear(); // shorter than the magic: a clear object that happens to start alike
      return;
    }
    const idLength = this.#buffer[magic]!;
    const headerBytes = magic + 1 + idLength + IV_BYTES + KEY_BYTES + TAG_BYTES + PREFIX_BYTES + 4;
    if (this.#buffer.length < headerBytes) {
      if (ended) throw new ObjectDecryptionError(`Stored object ${this.objectKey} is truncated (header)`);
      return;
    }
    let at = magic + 1;
    const take = (length: number) => this.#buffer.subarray(at, (at += length));
    const keyId = take(idLength).toString('utf8');
    const wrapIv = take(IV_BYTES);
    const wrapped = take(KEY_BYTES);
    const wrapTag = take(TAG_BYTES);
    this.#prefix = Buffer.from(take(PREFIX_BYTES));
    this.#frameBytes = take(4).readUInt32BE(0);
    const master = this.keys.get(keyId);
    if (!master) {
      throw new ObjectDecryptionError(
        `Stored object ${this.objectKey} is sealed with master key "${keyId}", which is not in FILES_ENCRYPTION_KEYS`,
      );
    }
    if (this.#frameBytes < 1 || this.#frameBytes > 16 * 1024 * 1024) {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} has a malformed header`);
    }
    const unwrap = createDecipheriv('aes-256-gcm', master, wrapIv, { authTagLength: TAG_BYTES });
    unwrap.setAAD(wrapAad(keyId, this.objectKey));
    unwrap.setAuthTag(wrapTag);
    try {
      this.#dataKey = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
    } catch {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey}: its data key does not authenticate`);
    }
    this.#buffer = this.#buffer.subarray(headerBytes);
    this.#mode = 'frames';
  }

  #passClear(): void {
    this.#mode = 'clear';
    if (this.#buffer.length > 0) this.push(this.#buffer);
    this.#buffer = Buffer.alloc(0);
  }

  #openFrames(ended: boolean): void {
    const full = this.#frameBytes + TAG_BYTES;
    // A full frame with bytes after it is not the last; at the end, whatever remains is the last frame.
    while (this.#buffer.length > full) {
      this.push(this.#open(this.#buffer.subarray(0, full), false));
      this.#buffer = this.#buffer.subarray(full);
    }
    if (!ended) return;
    if (this.#buffer.length <= TAG_BYTES) {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} is truncated`);
    }
    this.push(this.#open(this.#buffer, true));
    this.#buffer = Buffer.alloc(0);
  }

  #open(frame: Buffer, last: boolean): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.#dataKey!, nonce(this.#prefix!, this.#index, last), {
      authTagLength: TAG_BYTES,
    });
    this.#index += 1;
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(frame.subarray(0, frame.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} does not authenticate (altered or cut short)`);
    }
  }
}
