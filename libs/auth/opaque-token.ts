import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface OpaqueToken {
  /** Give this to the client; never store it. */
  token: string;
  /** Store this (SHA-256, hex) and look the token up by it. */
  hash: string;
}

/**
 * A random bearer token (refresh tokens, reset links, API keys): `prefix` followed by 256 random bits in
 * base64url. The prefix is used verbatim, so include its separator (`'gcr_'`); it makes leaked tokens
 * recognisable to secret scanners. A slow hash is unnecessary at this entropy, so SHA-256 is stored.
 */
export function generateOpaqueToken(prefix: string): OpaqueToken {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error('Opaque token prefix must be 1-32 characters of [A-Za-z0-9_-]');
  const token = `${prefix}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

/** SHA-256 (hex) of the whole token, prefix included, as stored by {@link generateOpaqueToken}. */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
