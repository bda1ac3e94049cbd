import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The byte formats of files encrypted at rest (used by `EncryptedObjectStore`).
 *
 * A sealed object: magic (8) · key envelope · nonce prefix (7) · frame size (u32) · frames (ciphertext + tag 16 each).
 * A key envelope: key id length (1) · key id · wrap IV (12) · wrapped data key (32) · wrap tag (16) — the object's
 * data key wrapped (AES-256-GCM) by a master key, the key id and the object key bound in as authenticated data.
 * A key object (`<object key>.key`, written when a data key is re-wrapped under a newer master key): key magic (8) ·
 * key envelope. It lets a master key retire without rewriting the objects it sealed.
 */

/** The first bytes of every object sealed here; an object without them is a clear one from before (read as is). */
export const ENCRYPTED_OBJECT_MAGIC = Buffer.from('GCENC\x00v1', 'latin1');
/** The first bytes of a key object. */
export const KEY_OBJECT_MAGIC = Buffer.from('GCKEY\x00v1', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;
const PREFIX_BYTES = 7;
/**
 * Plaintext bytes per frame of new objects: memory stays at a few frames whatever the file's size. 64 KiB frames
 * (objects sealed before 2026-12-06 have them, and still open) made an ArrayBuffer per 64 KiB twice over (the
 * cipher's output and the frame), and that churn set off a full garbage collection every ~4 MB sealed or opened in
 * a process with a large heap (the API, the worker): 15 a 64 MB against 1-8 for the same bytes in clear. At 256 KiB
 * there are none, and sealing and opening cost ~1 ms/MB over clear through S3.
 */
export const FRAME_BYTES = 256 * 1024;
const ENVELOPE_FIXED_BYTES = 1 + IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;
/** Header bytes after the key envelope: the nonce prefix and the frame size. */
const AFTER_ENVELOPE_BYTES = PREFIX_BYTES + 4;
export const MAX_HEADER_BYTES = ENCRYPTED_OBJECT_MAGIC.length + ENVELOPE_FIXED_BYTES + 255 + AFTER_ENVELOPE_BYTES;
/** What one frame adds to the plaintext. */
export const FRAME_OVERHEAD_BYTES = TAG_BYTES;

/** A sealed object that does not open: its master key is not configured, or its bytes were altered or cut short. */
export class ObjectDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectDecryptionError';
  }
}

/** A data key wrapped by one master key, as read from a header or a key object. */
export interface KeyEnvelope {
  keyId: string;
  iv: Buffer;
  wrapped: Buffer;
  tag: Buffer;
}

/** The configured master keys by id, and the one new data keys are wrapped with. */
export interface MasterKeys {
  currentId: string;
  byId: ReadonlyMap<string, Buffer>;
}

/** The key object's key beside the object at `objectKey` (object keys are ids, so no file is ever named like it). */
export function keyObjectKeyFor(objectKey: string): string {
  return `${objectKey}.key`;
}

export function startsWith(bytes: Buffer, magic: Buffer): boolean {
  return bytes.length >= magic.length && bytes.subarray(0, magic.length).equals(magic);
}

function wrapAad(keyId: string, objectKey: string): Buffer {
  return Buffer.from(`gigachat file key\n${keyId}\n${objectKey}`, 'utf8');
}

/** `dataKey` wrapped by the master key `keyId`, serialised as a key envelope. */
export function wrapDataKey(keys: MasterKeys, keyId: string, objectKey: string, dataKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const wrap = createCipheriv('aes-256-gcm', keys.byId.get(keyId)!, iv, { authTagLength: TAG_BYTES });
  wrap.setAAD(wrapAad(keyId, objectKey));
  const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final()]);
  const id = Buffer.from(keyId, 'utf8');
  return Buffer.concat([Buffer.from([id.length]), id, iv, wrapped, wrap.getAuthTag()]);
}

/** The key envelope at `at` in `bytes` and where it ends, or null when `bytes` ends before it does. */
export function readKeyEnvelope(bytes: Buffer, at: number): { envelope: KeyEnvelope; end: number } | null {
  if (bytes.length < at + 1) return null;
  const end = at + ENVELOPE_FIXED_BYTES + bytes[at]!;
  if (bytes.length < end) return null;
  let next = at + 1;
  const take = (length: number) => bytes.subarray(next, (next += length));
  const keyId = take(bytes[at]!).toString('utf8');
  return { envelope: { keyId, iv: take(IV_BYTES), wrapped: take(DATA_KEY_BYTES), tag: take(TAG_BYTES) }, end };
}

/** The data key inside `envelope`, or null when its master key is not configured; throws when it does not open. */
export function unwrapDataKey(keys: MasterKeys, envelope: KeyEnvelope, objectKey: string): Buffer | null {
  const master = keys.byId.get(envelope.keyId);
  if (!master) return null;
  const unwrap = createDecipheriv('aes-256-gcm', master, envelope.iv, { authTagLength: TAG_BYTES });
  unwrap.setAAD(wrapAad(envelope.keyId, objectKey));
  unwrap.setAuthTag(envelope.tag);
  try {
    return Buffer.concat([unwrap.update(envelope.wrapped), unwrap.final()]);
  } catch {
    throw new ObjectDecryptionError(`Stored object ${objectKey}: its data key does not authenticate`);
  }
}

/** A sealed object's header: the key envelope and what the frames need, or null when more bytes are needed. */
export function readHeader(
  bytes: Buffer,
): { envelope: KeyEnvelope; prefix: Buffer; frameBytes: number; headerBytes: number } | null {
  const read = readKeyEnvelope(bytes, ENCRYPTED_OBJECT_MAGIC.length);
  if (!read || bytes.length < read.end + AFTER_ENVELOPE_BYTES) return null;
  return {
    envelope: read.envelope,
    prefix: Buffer.from(bytes.subarray(read.end, read.end + PREFIX_BYTES)),
    frameBytes: bytes.readUInt32BE(read.end + PREFIX_BYTES),
    headerBytes: read.end + AFTER_ENVELOPE_BYTES,
  };
}

/**
 * The plaintext size of a sealed object of `storedSize` bytes with `header` (read from its first bytes): frames are
 * the header's size, which need not be today's {@link FRAME_BYTES} (objects sealed before kept theirs).
 */
export function plaintextSize(storedSize: number, header: { frameBytes: number; headerBytes: number }): number {
  const body = storedSize - header.headerBytes;
  const frames = Math.ceil(body / (header.frameBytes + TAG_BYTES));
  return Math.max(0, body - frames * TAG_BYTES);
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const out = Buffer.alloc(IV_BYTES);
  prefix.copy(out, 0);
  out.writeUInt32BE(index, PREFIX_BYTES);
  out[IV_BYTES - 1] = last ? 1 : 0;
  return out;
}

/** Plaintext in, header then frames out; holds back one frame so the last one is known and flagged. */
export class SealTransform extends Transform {
  readonly #dataKey = randomBytes(DATA_KEY_BYTES);
  readonly #prefix = randomBytes(PREFIX_BYTES);
  readonly #pending = new ByteQueue();
  #index = 0;

  /** `frameBytes`: other than {@link FRAME_BYTES} only to make objects as they were sealed before (tests). */
  constructor(
    keys: MasterKeys,
    objectKey: string,
    private readonly frameBytes = FRAME_BYTES,
  ) {
    // A frame on each side (the default 16 KiB would make every frame a stall).
    super({ highWaterMark: frameBytes });
    const frameSize = Buffer.alloc(4);
    frameSize.writeUInt32BE(frameBytes, 0);
    this.push(
      Buffer.concat([
        ENCRYPTED_OBJECT_MAGIC,
        wrapDataKey(keys, keys.currentId, objectKey, this.#dataKey),
        this.#prefix,
        frameSize,
      ]),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    // Strictly more than a frame: the bytes after it prove this frame is not the last.
    while (this.#pending.bytes > this.frameBytes) this.#frame(this.#pending.take(this.frameBytes), false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#frame(this.#pending.take(this.#pending.bytes), true);
    callback();
  }

  /**
   * Pushes one frame as one buffer, ciphertext then tag: the store beneath writes what it is given as it comes, and a
   * write per piece and a 16-byte write per tag cost more than copying the pieces' ciphertext together.
   */
  #frame(plain: Buffer[], last: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.#dataKey, nonce(this.#prefix, this.#index, last), {
      authTagLength: TAG_BYTES,
    });
    this.#index += 1;
    const bytes = plain.reduce((sum, piece) => sum + piece.length, 0);
    const frame = Buffer.allocUnsafe(bytes + TAG_BYTES);
    let offset = 0;
    for (const piece of plain) offset += cipher.update(piece).copy(frame, offset);
    cipher.final();
    cipher.getAuthTag().copy(frame, offset);
    this.push(frame);
  }
}

/**
 * Stored bytes in, plaintext out: clear objects (no magic) pass through, sealed ones are opened frame by frame. When
 * the header's master key is not configured (it was retired), the data key comes from the key object that a re-wrap
 * wrote beside the object, read through `readKeyObject` (null when there is none).
 */
export class OpenTransform extends Transform {
  #mode: 'head' | 'clear' | 'frames' = 'head';
  /** Bytes received and not yet passed on: the header until it is read, then the frames, as they arrived (no joins). */
  readonly #held = new ByteQueue();
  #dataKey: Buffer | undefined;
  #prefix: Buffer | undefined;
  #frameBytes = 0;
  #index = 0;

  constructor(
    private readonly keys: MasterKeys,
    private readonly objectKey: string,
    private readonly readKeyObject: () => Promise<KeyEnvelope | null>,
  ) {
    super({ highWaterMark: FRAME_BYTES });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#mode === 'clear') {
      callback(null, chunk);
      return;
    }
    this.#held.push(chunk);
    this.#advance(false, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#advance(true, callback);
  }

  #advance(ended: boolean, callback: TransformCallback): void {
    const frames = () => {
      if (this.#mode === 'frames') this.#openFrames(ended);
      callback();
    };
    try {
      if (this.#mode !== 'head') return frames();
      const pending = this.#readHead(ended);
      if (!pending) return frames();
      // The header's key is retired: wait for the key object, then go on.
      pending.then(
        () => {
          try {
            frames();
          } catch (error) {
            callback(error as Error);
          }
        },
        (error: Error) => callback(error),
      );
    } catch (error) {
      callback(error as Error);
    }
  }

  /** Reads the header once it is all here; returns a promise only when the data key must come from the key object. */
  #readHead(ended: boolean): Promise<void> | undefined {
    // The header is at most a few hundred bytes at the start: joining what came so far costs nothing worth saving.
    const head = this.#held.join();
    const magic = ENCRYPTED_OBJECT_MAGIC.length;
    const comparable = Math.min(head.length, magic);
    if (!head.subarray(0, comparable).equals(ENCRYPTED_OBJECT_MAGIC.subarray(0, comparable))) {
      this.#passClear();
      return;
    }
    if (head.length <= magic) {
      if (ended) this.#passClear(); // no longer than the magic: a clear object that happens to start alike
      return;
    }
    const header = readHeader(head);
    if (!header) {
      if (ended) throw new ObjectDecryptionError(`Stored object ${this.objectKey} is truncated (header)`);
      return;
    }
    if (header.frameBytes < 1 || header.frameBytes > 16 * 1024 * 1024) {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} has a malformed header`);
    }
    this.#prefix = header.prefix;
    this.#frameBytes = header.frameBytes;
    this.#held.take(header.headerBytes);
    const dataKey = unwrapDataKey(this.keys, header.envelope, this.objectKey);
    if (dataKey) {
      this.#begin(dataKey);
      return;
    }
    return this.readKeyObject().then((rewrapped) => {
      const fromKeyObject = rewrapped && unwrapDataKey(this.keys, rewrapped, this.objectKey);
      if (!fromKeyObject) {
        throw new ObjectDecryptionError(
          `Stored object ${this.objectKey} is sealed with master key "${header.envelope.keyId}"` +
            (rewrapped ? ` (re-wrapped with "${rewrapped.keyId}")` : '') +
            ', which is not in FILES_ENCRYPTION_KEYS',
        );
      }
      this.#begin(fromKeyObject);
    });
  }

  #begin(dataKey: Buffer): void {
    this.#dataKey = dataKey;
    this.#mode = 'frames';
  }

  #passClear(): void {
    this.#mode = 'clear';
    for (const piece of this.#held.take(this.#held.bytes)) this.push(piece);
  }

  #openFrames(ended: boolean): void {
    const full = this.#frameBytes + TAG_BYTES;
    // A full frame with bytes after it is not the last; at the end, whatever remains is the last frame.
    while (this.#held.bytes > full) this.#openFrame(this.#frameBytes, false);
    if (!ended) return;
    if (this.#held.bytes <= TAG_BYTES) {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} is truncated`);
    }
    this.#openFrame(this.#held.bytes - TAG_BYTES, true);
  }

  /** Opens the next frame (`bytes` of ciphertext, then its tag) piece by piece; passes it on only once it authenticates. */
  #openFrame(bytes: number, last: boolean): void {
    const body = this.#held.take(bytes);
    const tag = Buffer.concat(this.#held.take(TAG_BYTES));
    const decipher = createDecipheriv('aes-256-gcm', this.#dataKey!, nonce(this.#prefix!, this.#index, last), {
      authTagLength: TAG_BYTES,
    });
    this.#index += 1;
    decipher.setAuthTag(tag);
    let plain: Buffer[];
    try {
      plain = body.map((piece) => decipher.update(piece));
      decipher.final(); // checks the tag: nothing of a frame goes on before it does
    } catch {
      throw new ObjectDecryptionError(`Stored object ${this.objectKey} does not authenticate (altered or cut short)`);
    }
    for (const piece of plain) this.push(piece);
  }
}

/** Bytes in the pieces they arrived in: taken from the front by cutting pieces, never by copying them together. */
class ByteQueue {
  #pieces: Buffer[] = [];
  #bytes = 0;

  get bytes(): number {
    return this.#bytes;
  }

  push(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#pieces.push(piece);
    this.#bytes += piece.length;
  }

  /** The first `bytes` bytes (at most all held), as pieces. */
  take(bytes: number): Buffer[] {
    const pieces: Buffer[] = [];
    let wanted = Math.min(bytes, this.#bytes);
    this.#bytes -= wanted;
    let used = 0;
    while (wanted > 0) {
      const head = this.#pieces[used]!;
      if (head.length <= wanted) {
        pieces.push(head);
        used += 1;
        wanted -= head.length;
      } else {
        pieces.push(head.subarray(0, wanted));
        this.#pieces[used] = head.subarray(wanted);
        wanted = 0;
      }
    }
    // One splice, not a shift per piece: a frame read in tiny chunks is a quarter of a million pieces.
    if (used > 0) this.#pieces.splice(0, used);
    return pieces;
  }

  /** Everything held as one buffer (kept as the only piece): for the small header only. */
  join(): Buffer {
    const joined = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces, this.#bytes);
    this.#pieces = joined.length > 0 ? [joined] : [];
    return joined;
  }
}
