import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * Encrypts small secrets for storage (TOTP secrets): AES-256-GCM with a random 96-bit IV per message, sealed as
 * `v1:<iv>:<tag>:<ciphertext>` (base64). The version names the format and key, so a later key rotation can read
 * both. `context` is bound in as additional authenticated data (e.g. `totp:<userId>`): a sealed value copied to
 * another row does not open there.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new SecretBoxError(`The key must be ${KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Throws {@link SecretBoxError} when the value is malformed, of another version, tampered with or not ours. */
  open(sealed: string, context: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('Not a v1 sealed value');
    const [iv, tag, ciphertext] = parts.slice(1).map(decodeBase64) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('Not a v1 sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('The sealed value does not authenticate (tampered, or another key or context)');
    }
  }
}

/** Parses a key given as base64 (standard or URL-safe alphabet, padding optional) of exactly 32 bytes. */
export function parseSecretBoxKey(value: string): Uint8Array {
  const normalised = value.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const bytes = Buffer.from(normalised, 'base64');
  // 43 symbols carry 32 bytes; the round trip refuses stray bits in the last symbol.
  if (!/^[A-Za-z0-9+/]{43}$/.test(normalised) || bytes.toString('base64').replace(/=+$/, '') !== normalised) {
    throw new SecretBoxError(`must be base64 of exactly ${KEY_BYTES} bytes`);
  }
  return new Uint8Array(bytes);
}

function decodeBase64(part: string): Buffer {
  if (!BASE64.test(part)) throw new SecretBoxError('Not a v1 sealed value');
  return Buffer.from(part, 'base64');
}
