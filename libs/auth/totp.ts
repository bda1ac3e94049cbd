import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from './constant-time';

/*
 * TOTP (RFC 6238) over HOTP (RFC 4226), on node:crypto's HMAC-SHA1.
 *
 * Not otplib at run time: otplib 13 loads @scure/base, an ES module only, which Jest on Node 20 cannot require
 * (jest.config.js transforms only paseto and @noble), so every test that boots the API would fail. The algorithm is
 * thirty lines; totp.spec.ts proves it on the RFC 6238 appendix B vectors and against otplib itself (run by Node in
 * a child process), so codes agree with what otplib — and every authenticator app — computes.
 */

/** The parameters every authenticator app understands (RFC 6238 defaults): HMAC-SHA1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one, for clock drift and typing time. */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits, the secret length RFC 4226 recommends. */
const SECRET_BYTES = 20;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A Base32 string (as authenticator apps take it), or raw bytes (as in the RFC's test vectors). */
export type TotpSecret = string | Uint8Array;

export interface TotpOptions {
  /** Unix time in seconds (default: now). */
  epochSeconds?: number;
  digits?: 6 | 7 | 8;
}

export interface TotpVerifyOptions extends TotpOptions {
  /** Steps accepted either side of the current one (default {@link TOTP_WINDOW_STEPS}). */
  windowSteps?: number;
  /** Refuse every step up to and including this one: the last step this secret was used for (replay protection). */
  afterStep?: number | null;
}

/** A new random secret, Base32 without padding. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES));
}

/** The `otpauth://totp/…` URI an authenticator app scans (as a QR code) to add the account. */
export function totpUri(secret: string, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}

/** The time step (RFC 6238 "T") a Unix time falls into. */
export function totpStep(epochSeconds: number): number {
  return Math.floor(epochSeconds / TOTP_PERIOD_SECONDS);
}

/** The code for a time. */
export function totpCode(secret: TotpSecret, options: TotpOptions = {}): string {
  return hotp(secretBytes(secret), totpStep(options.epochSeconds ?? nowSeconds()), options.digits ?? TOTP_DIGITS);
}

/**
 * Checks a code against the steps within the window around `epochSeconds`. Returns the step it matched, or null
 * when it matches none, matches only a step at or before `afterStep`, or is not a string of `digits` ASCII digits.
 * Every step of the window is computed and compared, whichever matches.
 */
export function verifyTotp(secret: TotpSecret, code: string, options: TotpVerifyOptions = {}): number | null {
  const digits = options.digits ?? TOTP_DIGITS;
  if (code.length !== digits || !/^[0-9]+$/.test(code)) return null;
  const key = secretBytes(secret);
  const current = totpStep(options.epochSeconds ?? nowSeconds());
  const window = options.windowSteps ?? TOTP_WINDOW_STEPS;
  let matched: number | null = null;
  for (let step = current - window; step <= current + window; step += 1) {
    const equal = constantTimeEqual(hotp(key, step, digits), code);
    if (equal && matched === null && step >= 0 && (options.afterStep == null || step > options.afterStep)) {
      matched = step;
    }
  }
  return matched;
}

/** RFC 4226 §5.3: HMAC-SHA1 over the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
export function hotp(key: Uint8Array, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 4648 Base32, upper case, no padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31]!;
  return out;
}

/** RFC 4648 Base32; case, spaces and padding are ignored. Throws on any other character. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const symbol of clean) {
    const value = BASE32.indexOf(symbol);
    if (value < 0) throw new Error('Not a Base32 string');
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function secretBytes(secret: TotpSecret): Uint8Array {
  return typeof secret === 'string' ? base32Decode(secret) : secret;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
