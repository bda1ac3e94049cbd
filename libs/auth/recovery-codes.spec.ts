import fc from 'fast-check';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_ALPHABET,
} from './recovery-codes';

describe('recovery codes', () => {
  it('makes 10 distinct xxxx-xxxx-xxxx codes from the unambiguous alphabet', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32);
  });

  it('uses every symbol of the alphabet (five random bits each, no bias to speak of)', () => {
    const seen = new Set(generateRecoveryCodes(200).join('').replace(/-/g, ''));
    expect([...seen].sort().join('')).toBe([...RECOVERY_CODE_ALPHABET].sort().join(''));
  });

  it('reads a code however it is typed: case, hyphens, spaces, look-alike letters', () => {
    expect(normaliseRecoveryCode('ab0c-d1ef-2345')).toBe('ab0cd1ef2345');
    expect(normaliseRecoveryCode('AB0C-D1EF-2345')).toBe('ab0cd1ef2345');
    expect(normaliseRecoveryCode('ab0cd1ef2345')).toBe('ab0cd1ef2345');
    expect(normaliseRecoveryCode(' abOc dIef 2345 ')).toBe('ab0cd1ef2345');
    expect(normaliseRecoveryCode('abOc-dLef-2345')).toBe('ab0cd1ef2345');
  });

  it.each(['', 'ab0c-d1ef-234', 'ab0c-d1ef-23456', 'abuc-d1ef-2345', '123456', 'ab0c_d1ef_2345'])(
    'refuses %p',
    (input) => {
      expect(normaliseRecoveryCode(input)).toBeNull();
    },
  );

  it('normalises every generated code to itself without hyphens, and hashes the normal form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), (n) => {
        for (const code of generateRecoveryCodes(n)) {
          const normal = normaliseRecoveryCode(code);
          expect(normal).toBe(code.replace(/-/g, ''));
          expect(hashRecoveryCode(normal!)).toMatch(/^[0-9a-f]{64}$/);
          expect(hashRecoveryCode(normaliseRecoveryCode(code.toUpperCase())!)).toBe(hashRecoveryCode(normal!));
        }
      }),
      { numRuns: 20 },
    );
  });
});
