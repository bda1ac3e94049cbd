import type { Payload, PayloadCodec } from '@temporalio/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The `encoding` of a payload this codec sealed; anything else passes through untouched (histories from before). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that sealed a payload, so a rotated-out key still opens the histories it wrote. */
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES256GCM';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

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
  readonly #current: PayloadKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly PayloadKey[]) {
    const [current] = keys;
    if (!current) throw new Error('EncryptionCodec needs at least one key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`Payload key "${id}" must be ${KEY_BYTES} bytes`);
      if (byId.has(id)) throw new Error(`Payload key id "${id}" appears twice`);
      byId.set(id, Buffer.from(key));
    }
    this.#current = current;
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
    const id = this.#current.id;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(id)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(serializePayload(payload)), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8(ENCRYPTED_ENCODING),
        [CIPHER_METADATA]: utf8(CIPHER),
        [KEY_ID_METADATA]: utf8(id),
      },
      data: sealed,
    };
  }

  #open(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (text(metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(metadata[KEY_ID_METADATA]);
    if (!id) throw new PayloadDecryptionError('An encrypted payload carries no key id');
    const key = this.#keys.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `An encrypted payload names key id "${id}", which is not in TEMPORAL_PAYLOAD_KEYS (was it retired too early?)`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array(0));
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('An encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let clear: Buffer;
    try {
      clear = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`An encrypted payload (key id "${id}") does not authenticate: it was altered`);
    }
    return deserializePayload(clear);
  }
}

/**
 * The sealed form of a payload: `u32 entries`, then per metadata entry `u32 name length, name, u32 value length,
 * value`, then the data. Small and exact, with no dependency on the protobuf runtime.
 */
export function serializePayload(payload: Payload): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(payload.metadata ?? {});
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    parts.push(u32(nameBytes.length), nameBytes, u32(value.length), Buffer.from(value));
  }
  parts.push(Buffer.from(payload.data ?? new Uint8Array(0)));
  return Buffer.concat(parts);
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
    metadata[name] = new Uint8Array(take(readU32()));
  }
  return { metadata, data: new Uint8Array(bytes.subarray(offset)) };
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}

function utf8(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'utf8'));
}

function text(value: Uint8Array | null | undefined): string | undefined {
  return value ? Buffer.from(value).toString('utf8') : undefined;
}
