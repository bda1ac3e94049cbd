import { generateTotpSecret, totpCode, totpStep, totpUri, verifyTotp } from './totp';

/** RFC 6238, appendix B: the SHA-1 column, with its 20-byte ASCII secret and 8-digit codes. */
const RFC_SECRET = new TextEncoder().encode('12345678901234567890');
const RFC_VECTORS: [epochSeconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(RFC_VECTORS)('generates the appendix B code for T = %i', (epochSeconds, code) => {
    expect(totpCode(RFC_SECRET, { epochSeconds, digits: 8 })).toBe(code);
  });

  it.each(RFC_VECTORS)('verifies the appendix B code for T = %i, at its own step', (epochSeconds, code) => {
    expect(verifyTotp(RFC_SECRET, code, { epochSeconds, digits: 8 })).toBe(totpStep(epochSeconds));
  });

  it('takes the same secret as Base32, and truncates to 6 digits by default', () => {
    // Dynamic truncation is modulo 10^digits, so the 6-digit codes are the low six digits of the 8-digit ones.
    const base32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // RFC 4648 Base32 of the ASCII secret
    for (const [epochSeconds, code] of RFC_VECTORS) {
      expect(totpCode(base32, { epochSeconds })).toBe(code.slice(2));
    }
  });

  describe('window: one step either side', () => {
    const secret = generateTotpSecret();
    const t = 1_700_000_000 - (1_700_000_000 % 30) + 10; // 10 s into a step
    const step = totpStep(t);

    it.each([
      ['the previous step', -30, step - 1],
      ['the current step', 0, step],
      ['the next step', 30, step + 1],
    ])('accepts a code of %s, answering its step', (_what, offset, expected) => {
      const code = totpCode(secret, { epochSeconds: t + offset });
      expect(verifyTotp(secret, code, { epochSeconds: t })).toBe(expected);
    });

    it.each([
      ['two steps ago', -60],
      ['two steps ahead', 60],
      ['ten minutes ago', -600],
    ])('refuses a code from %s', (_what, offset) => {
      const code = totpCode(secret, { epochSeconds: t + offset });
      expect(verifyTotp(secret, code, { epochSeconds: t })).toBeNull();
    });

    it('refuses steps at or before afterStep (a code cannot be used twice)', () => {
      const previous = totpCode(secret, { epochSeconds: t - 30 });
      const current = totpCode(secret, { epochSeconds: t });
      const next = totpCode(secret, { epochSeconds: t + 30 });
      expect(verifyTotp(secret, current, { epochSeconds: t, afterStep: step })).toBeNull();
      expect(verifyTotp(secret, previous, { epochSeconds: t, afterStep: step })).toBeNull();
      expect(verifyTotp(secret, next, { epochSeconds: t, afterStep: step })).toBe(step + 1);
      expect(verifyTotp(secret, current, { epochSeconds: t, afterStep: step - 1 })).toBe(step);
      expect(verifyTotp(secret, current, { epochSeconds: t, afterStep: null })).toBe(step);
    });

    it('refuses every code when the last use is at or past the end of the window (a clock set back)', () => {
      const next = totpCode(secret, { epochSeconds: t + 30 });
      expect(verifyTotp(secret, next, { epochSeconds: t, afterStep: step + 1 })).toBeNull();
      expect(verifyTotp(secret, next, { epochSeconds: t, afterStep: step + 100 })).toBeNull();
    });

    it('refuses a code of another secret', () => {
      // One chance in a million per step that two secrets agree; three steps are checked.
      expect(verifyTotp(secret, totpCode(generateTotpSecret(), { epochSeconds: t }), { epochSeconds: t })).toBeNull();
    });
  });

  it.each(['', '12345', '1234567', '12345a', ' 123456', '１２３４５６', 'abcdef', '123 456', '-12345', '1e5000'])(
    'refuses %p (not six ASCII digits)',
    (code) => {
      expect(verifyTotp(generateTotpSecret(), code)).toBeNull();
    },
  );

  it('makes distinct 160-bit Base32 secrets', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 32 symbols of 5 bits, no padding
    expect(generateTotpSecret()).not.toBe(secret);
    const epochSeconds = 1_800_000_000;
    expect(verifyTotp(secret, totpCode(secret, { epochSeconds }), { epochSeconds })).toBe(totpStep(epochSeconds));
  });

  it('builds an otpauth URI with issuer, account and the parameters', () => {
    const secret = generateTotpSecret();
    const uri = new URL(totpUri(secret, 'ada+2fa@example.com', 'GigaChat'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/GigaChat:ada+2fa@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret,
      issuer: 'GigaChat',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
