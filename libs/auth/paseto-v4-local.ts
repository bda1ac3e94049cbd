import { xchacha20 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { InvalidTokenError, LocalDecrypt, LocalEncrypt, LocalProtocol, PAE } from 'paseto';
import type { Key } from 'paseto';

/**
 * PASETO v4.local (XChaCha20 + BLAKE2b) for the `paseto` package.
 *
 * `paseto` frames tokens, serialises and validates claims and handles footers and implicit assertions, but
 * leaves the v4.local cryptography to an extension. This module supplies it with `@noble/ciphers` and
 * `@noble/hashes`, following
 * https://github.com/paseto-standard/paseto-spec/blob/master/docs/01-Protocol-Versions/Version4.md
 */

export const V4_LOCAL_KEY_BYTES = 32;
const NONCE_BYTES = 32;
const TAG_BYTES = 32;

const HEADER = new TextEncoder().encode('v4.local.');
const ENCRYPTION_KEY_INFO = new TextEncoder().encode('paseto-encryption-key');
const AUTH_KEY_INFO = new TextEncoder().encode('paseto-auth-key-for-aead');

/** An opaque v4.local symmetric key; the key bytes are not reachable from the object itself. */
export interface V4LocalKey extends Key {
  readonly algorithm: { readonly name: 'PASETO v4.local' };
  readonly type: 'secret';
  readonly extractable: false;
}

/** Produces the 32-byte nonce of one token. Only tests should replace the random default. */
export type NonceSource = () => Uint8Array;

export interface V4LocalOptions {
  nonce?: NonceSource;
}

const keyMaterial = new WeakMap<V4LocalKey, Uint8Array>();

/** Wraps 32 raw key bytes (copied) as a v4.local key. */
export function createV4LocalKey(material: Uint8Array): V4LocalKey {
  if (!ArrayBuffer.isView(material) || material.byteLength !== V4_LOCAL_KEY_BYTES) {
    throw new TypeError(`A v4.local key must be exactly ${V4_LOCAL_KEY_BYTES} bytes`);
  }
  const key: V4LocalKey = Object.freeze({
    algorithm: Object.freeze({ name: 'PASETO v4.local' as const }),
    type: 'secret' as const,
    extractable: false as const,
  });
  keyMaterial.set(key, new Uint8Array(material.buffer, material.byteOffset, material.byteLength).slice());
  return key;
}

function materialOf(key: V4LocalKey): Uint8Array {
  const material = keyMaterial.get(key);
  if (material === undefined) throw new TypeError('Not a key created by createV4LocalKey');
  return material;
}

function concat(...pieces: Uint8Array[]): Uint8Array {
  const output = new Uint8Array(pieces.reduce((length, piece) => length + piece.byteLength, 0));
  let offset = 0;
  for (const piece of pieces) {
    output.set(piece, offset);
    offset += piece.byteLength;
  }
  return output;
}

/** Ek and n2 (encryption key and XChaCha20 nonce) and Ak (authentication key), derived from the nonce. */
function splitKeys(key: Uint8Array, nonce: Uint8Array): { ek: Uint8Array; n2: Uint8Array; ak: Uint8Array } {
  const tmp = blake2b(concat(ENCRYPTION_KEY_INFO, nonce), { key, dkLen: 56 });
  const ak = blake2b(concat(AUTH_KEY_INFO, nonce), { key, dkLen: 32 });
  return { ek: tmp.subarray(0, 32), n2: tmp.subarray(32), ak };
}

function tag(ak: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, footer: Uint8Array, implicit: Uint8Array) {
  return blake2b(PAE([HEADER, nonce, ciphertext, footer, implicit]), { key: ak, dkLen: TAG_BYTES });
}

const randomNonce: NonceSource = () => randomBytes(NONCE_BYTES);

/**
 * The raw v4.local Encrypt of the spec: returns the token body `n || c || t` for message bytes (no claim
 * handling). `createV4Local().Encrypt` is the normal entry point; this one is for tests and tools.
 */
export function encryptV4LocalPayload(
  key: V4LocalKey,
  message: Uint8Array,
  footer: Uint8Array = new Uint8Array(),
  implicitAssertion: Uint8Array = new Uint8Array(),
  nonce: NonceSource = randomNonce,
): Uint8Array {
  const n = Uint8Array.from(nonce());
  if (n.byteLength !== NONCE_BYTES) throw new TypeError(`The nonce must be ${NONCE_BYTES} bytes`);
  const { ek, n2, ak } = splitKeys(materialOf(key), n);
  const c = xchacha20(ek, n2, message);
  return concat(n, c, tag(ak, n, c, footer, implicitAssertion));
}

/** The raw v4.local Decrypt of the spec: authenticates the token body `n || c || t`, returns the message bytes. */
export function decryptV4LocalPayload(
  key: V4LocalKey,
  body: Uint8Array,
  footer: Uint8Array = new Uint8Array(),
  implicitAssertion: Uint8Array = new Uint8Array(),
): Uint8Array {
  if (body.byteLength < NONCE_BYTES + TAG_BYTES) throw new InvalidTokenError('Token payload is too short');
  const n = body.subarray(0, NONCE_BYTES);
  const c = body.subarray(NONCE_BYTES, body.byteLength - TAG_BYTES);
  const t = body.subarray(body.byteLength - TAG_BYTES);
  const { ek, n2, ak } = splitKeys(materialOf(key), n);
  // Without an early exit (both tags are TAG_BYTES long), so the time taken does not reveal where they differ.
  if (!equalBytes(t, tag(ak, n, c, footer, implicitAssertion))) {
    throw new InvalidTokenError('Token authentication failed');
  }
  return xchacha20(ek, n2, c);
}

function encryptFactory(nonce: NonceSource) {
  return LocalEncrypt<4, V4LocalKey>({
    version: 4,
    run: (key, message, footer, implicit) =>
      Promise.resolve(encryptV4LocalPayload(key, message, footer, implicit, nonce)),
  });
}

export const V4LocalEncryptFactory = encryptFactory(randomNonce);
export const V4LocalDecryptFactory = LocalDecrypt<4, V4LocalKey>({
  version: 4,
  run: (key, body, footer, implicit) => Promise.resolve(decryptV4LocalPayload(key, body, footer, implicit)),
});

/**
 * A `paseto` protocol object with `Encrypt(key, claims, options)` and `Decrypt(key, token, options)` for v4.local.
 * Pass `nonce` only in tests that reproduce fixed vectors.
 */
export function createV4Local(options: V4LocalOptions = {}) {
  const encryption = options.nonce === undefined ? V4LocalEncryptFactory : encryptFactory(options.nonce);
  return new LocalProtocol(encryption, V4LocalDecryptFactory);
}

export type V4Local = ReturnType<typeof createV4Local>;
