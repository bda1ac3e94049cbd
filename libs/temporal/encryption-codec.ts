import type { Payload, PayloadCodec } from '@temporalio/common';
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomFillSync } from 'node:crypto';

/** The `encoding` of a payload this codec sealed; anything else passes through untouched (histories from before). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that sealed a payload, so a rotated-out key still opens the histories it wrote. */
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES256GCM';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IVs drawn from the CSPRNG at a time: one `randomBytes(12)` per payload cost more than the cipher itself. */
const IVS_PER_DRAW = 256;

/** One AES-256 key and the id written beside every payload it seals. */
export interface PayloadKey {
  id: string;
  key: Uint8Array;
}

/** A payload that cannot be opened: its key id is not configured, or it does not authenticate. Never names a key. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/**
 * Encrypts every payload that leaves the process for Temporal (workflow and activity inputs and results, updates,
 * queries, signals, memo fields, failures' details) with AES-256-GCM and a random 96-bit IV, and opens them on the way
 * back. The whole original payload (its metadata and data) is sealed, so even its encoding is hidden; the key id is
 * bound in as additional data, so editing the clear metadata breaks authentication rather than switching keys.
 * The first key seals; every key opens (rotation: add a new key first, keep the old one until its histories are gone).
 */
export class EncryptionCodec implements PayloadCodec {
  readonly #current: SealingKey;
  readonly #keys: ReadonlyMap<string, SealingKey>;
  #ivs = Buffer.alloc(0);
  #ivOffset = 0;

  constructor(keys: readonly PayloadKey[]) {
    const [current] = keys;
    if (!current) throw new Error('EncryptionCodec needs at least one key');
    const byId = new Map<string, SealingKey>();
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`Payload key "${id}" must be ${KEY_BYTES} bytes`);
      if (byId.has(id)) throw new Error(`Payload key id "${id}" appears twice`);
      byId.set(id, { id, key: createSecretKey(Buffer.from(key)), aad: Buffer.from(id, 'utf8') });
    }
    this.#current = byId.get(current.id)!;
    this.#keys = byId;
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  // Synchronous work behind the async interface: a payload that does not open rejects rather than throws.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#seal(payload));
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#open(payload));
  }

  #seal(payload: Payload): Payload {
    const { id, key, aad } = this.#current;
    const iv = this.#nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = cipher.update(serializePayload(payload));
    cipher.final(); // GCM is a stream mode: everything came out of update()
    const sealed = Buffer.allocUnsafe(IV_BYTES + body.length + TAG_BYTES);
    iv.copy(sealed, 0);
    body.copy(sealed, IV_BYTES);
    cipher.getAuthTag().copy(sealed, IV_BYTES + body.length);
    return {
      metadata: {
        encoding: utf8(ENCRYPTED_ENCODING),
        [CIPHER_METADATA]: utf8(CIPHER),
        [KEY_ID_METADATA]: utf8(id),
      },
      data: sealed,
    };
  }

  /** A fresh random 96-bit IV: a slice of a batch drawn from the CSPRNG, each slice handed out once. */
  #nextIv(): Buffer {
    if (this.#ivOffset + IV_BYTES > this.#ivs.length) {
      this.#ivs = randomFillSync(Buffer.allocUnsafe(IV_BYTES * IVS_PER_DRAW));
      this.#ivOffset = 0;
    }
    const iv = this.#ivs.subarray(this.#ivOffset, this.#ivOffset + IV_BYTES);
    this.#ivOffset += IV_BYTES;
    return iv;
  }

  #open(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (text(metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(metadata[KEY_ID_METADATA]);
    if (!id) throw new PayloadDecryptionError('An encrypted payload carries no key id');
    const sealing = this.#keys.get(id);
    if (!sealing) {
      throw new PayloadDecryptionError(
        `An encrypted payload names key id "${id}", which is not in TEMPORAL_PAYLOAD_KEYS (was it retired too early?)`,
      );
    }
    const data = view(payload.data ?? new Uint8Array(0));
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('An encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', sealing.key, data.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(sealing.aad);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let clear: Buffer;
    try {
      clear = decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES));
      decipher.final(); // throws when the tag does not match; GCM gives nothing more here
    } catch {
      throw new PayloadDecryptionError(`An encrypted payload (key id "${id}") does not authenticate: it was altered`);
    }
    return deserializePayload(clear);
  }
}

interface SealingKey {
  id: string;
  key: KeyObject;
  /** The key id as bytes: authenticated data of every payload the key seals. */
  aad: Buffer;
}

/**
 * The sealed form of a payload: `u32 entries`, then per metadata entry `u32 name length, name, u32 value length,
 * value`, then the data. Small and exact, with no dependency on the protobuf runtime.
 */
export function serializePayload(payload: Payload): Buffer {
  const entries = Object.entries(payload.metadata ?? {}).map(([name, value]) => ({
    name: Buffer.from(name, 'utf8'),
    value,
  }));
  const data = payload.data ?? new Uint8Array(0);
  let length = 4 + data.length;
  for (const { name, value } of entries) length += 8 + name.length + value.length;
  const out = Buffer.allocUnsafe(length);
  let offset = out.writeUInt32BE(entries.length, 0);
  for (const { name, value } of entries) {
    offset = out.writeUInt32BE(name.length, offset);
    offset += name.copy(out, offset);
    offset = out.writeUInt32BE(value.length, offset);
    out.set(value, offset);
    offset += value.length;
  }
  out.set(data, offset);
  return out;
}

export function deserializePayload(bytes: Buffer): Payload {
  let offset = 0;
  const take = (length: number): Buffer => {
    if (offset + length > bytes.length) throw new PayloadDecryptionError('A decrypted payload is malformed');
    const slice = bytes.subarray(offset, offset + length);
    offset += length;
    return slice;
  };
  const readU32 = (): number => take(4).readUInt32BE(0);
  const metadata: Record<string, Uint8Array> = {};
  const entries = readU32();
  for (let index = 0; index < entries; index += 1) {
    const name = take(readU32()).toString('utf8');
    metadata[name] = take(readU32());
  }
  // Views into `bytes`, which only this payload holds (it came fresh out of the decipher): no copies.
  return { metadata, data: bytes.subarray(offset) };
}

/** The bytes of `value` as a Buffer without copying them. */
function view(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function utf8(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'utf8'));
}

function text(value: Uint8Array | null | undefined): string | undefined {
  return value ? view(value).toString('utf8') : undefined;
}
