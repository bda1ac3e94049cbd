import { randomBytes } from 'node:crypto';
import { InspectFooter } from 'paseto';
import { createV4Local, createV4LocalKey } from './paseto-v4-local';
import type { V4Local, V4LocalKey } from './paseto-v4-local';

export interface AccessTokenKey {
  id: string;
  key: Uint8Array;
}

export interface AccessTokenCodecOptions {
  /** Every key that may have signed a live token; verification picks one by the footer's `kid`. */
  keys: AccessTokenKey[];
  /** The key new tokens are issued with. */
  currentKeyId: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now?: () => Date;
  /** Accepted clock skew for `iat` and `exp`, in seconds. Defaults to 5. */
  clockToleranceSeconds?: number;
}

export interface AccessTokenSubject {
  sub: string;
  sid: string;
  role: string;
  scopes?: string[];
}

/** The claims of a verified access token; `iat` and `exp` are RFC 3339 strings, as on the wire. */
export interface AccessTokenClaims extends AccessTokenSubject {
  jti: string;
  iss: string;
  aud: string;
  iat: string;
  exp: string;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export type AccessTokenErrorCode = 'token_expired' | 'invalid_token';

export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';

  constructor(
    readonly code: AccessTokenErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const TOKEN_PREFIX = 'v4.local.';
const MAX_TOKEN_LENGTH = 4096;
const MAX_FOOTER_BYTES = 256;
const REQUIRED_CLAIMS = ['sub', 'sid', 'role', 'jti', 'iss', 'aud', 'iat', 'exp'] as const;
const PASERK_LOCAL_PREFIX = 'k4.local.';

/** Issues and verifies PASETO v4.local access tokens, with key rotation by key id (`kid` in the footer). */
export class AccessTokenCodec {
  private readonly v4: V4Local = createV4Local();
  private readonly keys = new Map<string, V4LocalKey>();
  private readonly currentKeyId: string;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly ttlSeconds: number;
  private readonly now: () => Date;
  private readonly clockToleranceSeconds: number;

  constructor(options: AccessTokenCodecOptions) {
    if (options.keys.length === 0) throw new Error('AccessTokenCodec needs at least one key');
    for (const { id, key } of options.keys) {
      if (id === '') throw new Error('Access token key ids must not be empty');
      if (this.keys.has(id)) throw new Error(`Duplicate access token key id "${id}"`);
      this.keys.set(id, createV4LocalKey(key));
    }
    if (!this.keys.has(options.currentKeyId)) {
      throw new Error(`Current access token key id "${options.currentKeyId}" is not among the keys`);
    }
    if (options.issuer === '' || options.audience === '') {
      throw new Error('Access token issuer and audience are required');
    }
    if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new Error('Access token ttlSeconds must be a positive integer');
    }
    const tolerance = options.clockToleranceSeconds ?? 5;
    if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error('clockToleranceSeconds must be >= 0');
    this.currentKeyId = options.currentKeyId;
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.ttlSeconds = options.ttlSeconds;
    this.now = options.now ?? (() => new Date());
    this.clockToleranceSeconds = tolerance;
  }

  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    for (const name of ['sub', 'sid', 'role'] as const) {
      if (typeof subject[name] !== 'string' || subject[name] === '') {
        throw new TypeError(`"${name}" must be a non-empty string`);
      }
    }
    if (subject.scopes !== undefined && !isStringArray(subject.scopes)) {
      throw new TypeError('"scopes" must be an array of strings');
    }
    // PASETO times carry whole seconds, so the returned expiry is exactly the one in the token.
    const issuedAt = Math.floor(this.now().getTime() / 1000) * 1000;
    const expiresAt = new Date(issuedAt + this.ttlSeconds * 1000);
    const jti = randomBytes(16).toString('base64url');
    const claims: AccessTokenClaims = {
      sub: subject.sub,
      sid: subject.sid,
      role: subject.role,
      ...(subject.scopes === undefined ? {} : { scopes: [...subject.scopes] }),
      jti,
      iss: this.issuer,
      aud: this.audience,
      iat: rfc3339(new Date(issuedAt)),
      exp: rfc3339(expiresAt),
    };
    const key = this.keys.get(this.currentKeyId)!;
    const footer = new TextEncoder().encode(JSON.stringify({ kid: this.currentKeyId }));
    const token = await this.v4.Encrypt(key, claims, { footer, addIssuedAt: false });
    return { token, jti, expiresAt };
  }

  /** Resolves to the token's claims, or rejects with an {@link AccessTokenError}. */
  async verify(token: string): Promise<AccessTokenClaims> {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX)) {
      throw new AccessTokenError('invalid_token', 'Not a v4.local token');
    }
    if (token.length > MAX_TOKEN_LENGTH) throw new AccessTokenError('invalid_token', 'Token is too long');
    const key = this.keys.get(this.keyIdOf(token));
    if (key === undefined) throw new AccessTokenError('invalid_token', 'Unknown key id');
    let claims: Record<string, unknown>;
    try {
      ({ claims } = await this.v4.Decrypt(key, token, {
        now: this.now(),
        clockTolerance: this.clockToleranceSeconds,
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: [...REQUIRED_CLAIMS],
      }));
    } catch (cause) {
      throw toAccessTokenError(cause);
    }
    return toAccessTokenClaims(claims);
  }

  /** Reads the (not yet authenticated) footer `{"kid":"…"}`; decryption authenticates it afterwards. */
  private keyIdOf(token: string): string {
    let footer: unknown;
    try {
      const bytes = InspectFooter(token);
      if (bytes.byteLength === 0 || bytes.byteLength > MAX_FOOTER_BYTES) throw new Error('Footer size');
      footer = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (cause) {
      throw new AccessTokenError('invalid_token', 'Malformed token footer', { cause });
    }
    if (
      typeof footer !== 'object' ||
      footer === null ||
      Array.isArray(footer) ||
      Object.keys(footer).length !== 1 ||
      typeof (footer as { kid?: unknown }).kid !== 'string'
    ) {
      throw new AccessTokenError('invalid_token', 'Malformed token footer');
    }
    return (footer as { kid: string }).kid;
  }
}

function toAccessTokenError(cause: unknown): AccessTokenError {
  const error = cause as { code?: unknown; claim?: unknown; message?: unknown } | null;
  // paseto reports a lapsed `exp` (beyond the clock tolerance) with exactly this message.
  if (error?.code === 'ERR_PASETO_CLAIM_VALIDATION' && error.claim === 'exp' && error.message === 'Token has expired') {
    return new AccessTokenError('token_expired', 'Access token has expired', { cause });
  }
  return new AccessTokenError('invalid_token', 'Invalid access token', { cause });
}

function toAccessTokenClaims(claims: Record<string, unknown>): AccessTokenClaims {
  for (const name of REQUIRED_CLAIMS) {
    if (typeof claims[name] !== 'string' || claims[name] === '') {
      throw new AccessTokenError('invalid_token', `Claim "${name}" must be a non-empty string`);
    }
  }
  if (claims.scopes !== undefined && !isStringArray(claims.scopes)) {
    throw new AccessTokenError('invalid_token', 'Claim "scopes" must be an array of strings');
  }
  const result = claims as unknown as AccessTokenClaims;
  return {
    sub: result.sub,
    sid: result.sid,
    role: result.role,
    ...(result.scopes === undefined ? {} : { scopes: result.scopes }),
    jti: result.jti,
    iss: result.iss,
    aud: result.aud,
    iat: result.iat,
    exp: result.exp,
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parses a v4.local key from configuration: PASERK `k4.local.<base64url>` or plain base64, 32 bytes either way.
 * Error messages never repeat the value.
 */
export function parseTokenKey(value: string): Uint8Array {
  const text = value.trim();
  if (text.startsWith(PASERK_LOCAL_PREFIX)) {
    const encoded = text.slice(PASERK_LOCAL_PREFIX.length);
    const bytes = Buffer.from(encoded, 'base64url');
    if (!/^[A-Za-z0-9_-]+$/.test(encoded) || bytes.toString('base64url') !== encoded || bytes.length !== 32) {
      throw new Error('Token key "k4.local." must be followed by the unpadded base64url of exactly 32 bytes');
    }
    return Uint8Array.from(bytes);
  }
  if (/^k\d\./.test(text)) {
    throw new Error('Token key must be a PASERK k4.local key; other PASERK types are not accepted');
  }
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new Error('Token key must be a PASERK "k4.local.…" key or base64 of exactly 32 bytes; it is neither');
  }
  if (bytes.length !== 32) {
    throw new Error(`Token key must be exactly 32 bytes; the base64 value decodes to ${bytes.length}`);
  }
  return Uint8Array.from(bytes);
}
