import { randomBytes } from 'node:crypto';
import { parseSecretBoxKey, SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips, with a fresh IV each time, as v1:<iv>:<tag>:<ciphertext>', () => {
    const a = box.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'totp:u1');
    const b = box.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'totp:u1');
    expect(a).toMatch(/^v1:[A-Za-z0-9+/=]{16}:[A-Za-z0-9+/=]{24}:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DP');
    expect(box.open(a, 'totp:u1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(box.open(b, 'totp:u1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(box.open(box.seal('', 'c'), 'c')).toBe('');
  });

  /** Flips one bit of part `index` (1 = IV, 2 = tag, 3 = ciphertext). */
  function flip(sealed: string, index: number): string {
    const parts = sealed.split(':');
    const bytes = Buffer.from(parts[index]!, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    parts[index] = bytes.toString('base64');
    return parts.join(':');
  }

  it.each([
    ['the IV', 1],
    ['the tag', 2],
    ['the ciphertext', 3],
  ])('detects a flipped bit in %s', (_what, index) => {
    const sealed = box.seal('a secret', 'totp:u1');
    expect(() => box.open(flip(sealed, index), 'totp:u1')).toThrow(SecretBoxError);
  });

  it('does not open under another key or another context', () => {
    const sealed = box.seal('a secret', 'totp:u1');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'totp:u1')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'totp:u2')).toThrow(SecretBoxError);
  });

  it.each([
    ['another version', (s: string) => s.replace(/^v1:/, 'v2:')],
    ['a missing part', (s: string) => s.split(':').slice(0, 3).join(':')],
    ['an extra part', (s: string) => `${s}:AAAA`],
    ['a short IV', (s: string) => s.replace(/^v1:[^:]+:/, 'v1:AAAA:')],
    ['a truncated tag', (s: string) => s.replace(/^(v1:[^:]+:)[^:]+/, '$1AAAAAAAAAAAAAAAAAAAA')],
    ['non-base64 text', (s: string) => s.replace(/:[^:]+$/, ':*not base64*')],
    ['garbage', () => 'garbage'],
  ])('refuses %s', (_what, mangle) => {
    expect(() => box.open(mangle(box.seal('a secret', 'c')), 'c')).toThrow(SecretBoxError);
  });

  it('takes only 32-byte keys', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });
});

describe('parseSecretBoxKey', () => {
  const bytes = randomBytes(32);

  it('reads base64 and base64url, with or without padding', () => {
    for (const text of [
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('base64').replace(/=+$/, ''),
      ` ${bytes.toString('base64')}\n`,
    ]) {
      expect(Buffer.from(parseSecretBoxKey(text)).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['hex of 32 bytes', randomBytes(32).toString('hex')],
    ['non-base64 characters', `${'A'.repeat(42)}*`],
    ['an empty string', ''],
  ])('refuses %s', (_what, text) => {
    expect(() => parseSecretBoxKey(text)).toThrow('must be base64 of exactly 32 bytes');
  });
});
