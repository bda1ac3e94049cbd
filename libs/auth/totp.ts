import { generateSecret, generateSync, verifySync } from 'otplib';

/*
 * TOTP (RFC 6238) through otplib: it generates secrets and codes and checks them (constant-time comparison,
 * replay protection through `afterTimeStep`). What is ours is the policy: six digits, 30-second steps, one step of
 * drift either way, codes that are not exactly six ASCII digits refused before otplib sees them, and the otpauth URI.
 * totp.spec.ts holds it to the RFC 6238 appendix B vectors.
 */

/** The parameters every authenticator app understands (RFC 6238 defaults): HMAC-SHA1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one, for clock drift and typing time. */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits, the secret length RFC 4226 recommends. */
const SECRET_BYTES = 20;

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
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * The `otpauth://totp/…` URI an authenticator app scans (as a QR code) to add the account. Every parameter is
 * spelled out (otplib leaves the defaults out), so apps that do not assume them read the same.
 */
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
  return generateSync({
    secret,
    epoch: options.epochSeconds ?? nowSeconds(),
    digits: options.digits ?? TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/**
 * Checks a code against the steps within the window around `epochSeconds`. Returns the step it matched, or null
 * when it matches none, matches only a step at or before `afterStep`, or is not a string of `digits` ASCII digits.
 */
export function verifyTotp(secret: TotpSecret, code: string, options: TotpVerifyOptions = {}): number | null {
  const digits = options.digits ?? TOTP_DIGITS;
  if (code.length !== digits || !/^[0-9]+$/.test(code)) return null;
  const epoch = options.epochSeconds ?? nowSeconds();
  const window = options.windowSteps ?? TOTP_WINDOW_STEPS;
  const afterStep = options.afterStep ?? undefined;
  // Every step of the window was used already (or the clock went back past the last use): nothing can pass. otplib
  // would throw for an afterTimeStep beyond the window.
  if (afterStep !== undefined && afterStep >= totpStep(epoch) + window) return null;
  const result = verifySync({
    secret,
    token: code,
    epoch,
    digits,
    period: TOTP_PERIOD_SECONDS,
    // In seconds: `window` whole periods either side always reach exactly `window` steps either side.
    epochTolerance: window * TOTP_PERIOD_SECONDS,
    afterTimeStep: afterStep,
  });
  // otplib's result type covers HOTP too; a TOTP match carries its time step.
  return result.valid && 'timeStep' in result && result.timeStep >= 0 ? result.timeStep : null;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
