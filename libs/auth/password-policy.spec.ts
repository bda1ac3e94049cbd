import * as fc from 'fast-check';
import commonPasswordList from './data/common-passwords.json';
import { checkPasswordPolicy, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy';

const TOO_SHORT = `Password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
const TOO_LONG = `Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
const TOO_COMMON = 'Password is too common; choose one that is harder to guess.';
const COMMON_PASSWORDS = commonPasswordList.passwords;

describe('checkPasswordPolicy', () => {
  it('accepts a long, uncommon password', () => {
    expect(checkPasswordPolicy('violet kettle drums at noon')).toEqual([]);
    // The README's example, with its spaces, is not the listed 'correcthorsebatterystaple'.
    expect(checkPasswordPolicy('correct horse battery staple')).toEqual([]);
  });

  it('requires at least 12 characters', () => {
    expect(checkPasswordPolicy('x7#kQ2!mZ9p')).toEqual([TOO_SHORT]);
    expect(checkPasswordPolicy('x7#kQ2!mZ9pL')).toEqual([]);
    expect(checkPasswordPolicy('')).toEqual([TOO_SHORT]);
  });

  it('counts code points, not UTF-16 units or bytes', () => {
    // 11 emoji are 22 UTF-16 units and 44 bytes, but still only 11 characters.
    expect(checkPasswordPolicy('🔥'.repeat(11))).toEqual([TOO_SHORT]);
    expect(checkPasswordPolicy('🔥'.repeat(12))).toEqual([]);
  });

  it('counts a decomposed accent with its letter as one character', () => {
    const elevenAccented = 'é'.repeat(11).normalize('NFD'); // 22 code points before normalisation
    expect(checkPasswordPolicy(elevenAccented)).toEqual([TOO_SHORT]);
  });

  it('allows at most 1024 characters', () => {
    expect(checkPasswordPolicy('ab3$'.repeat(256))).toEqual([]);
    expect(checkPasswordPolicy(`${'ab3$'.repeat(256)}x`)).toEqual([TOO_LONG]);
    expect(checkPasswordPolicy('🔥'.repeat(1024))).toEqual([]);
  });

  it.each([
    'password123456',
    'qwertyuiop123',
    '1q2w3e4r5t6y',
    'qazwsxedcrfv',
    '123456789012',
    'aaaaaaaaaaaa',
    'football2024',
    'iloveyou1234',
    'correcthorsebatterystaple',
    'gigachat2025',
    '123qweasdzxc',
    'administrator',
    'password2024!',
    'motdepasse123',
  ])('refuses the common password %p', (password) => {
    expect(checkPasswordPolicy(password)).toEqual([TOO_COMMON]);
  });

  it('compares against the list ignoring case', () => {
    expect(checkPasswordPolicy('PassWord123456')).toEqual([TOO_COMMON]);
    expect(checkPasswordPolicy('QWERTYUIOP123')).toEqual([TOO_COMMON]);
  });

  it('ships a list of thousands of lower-case entries that are long enough to matter', () => {
    expect(commonPasswordList.source).toMatch(/^@zxcvbn-ts\/language-common@\d+\.\d+\.\d+ /);
    expect(COMMON_PASSWORDS.length).toBeGreaterThan(20_000);
    expect(new Set(COMMON_PASSWORDS).size).toBe(COMMON_PASSWORDS.length);
    const malformed = COMMON_PASSWORDS.filter(
      (entry) => entry !== entry.normalize('NFC').toLowerCase() || [...entry].length < MIN_PASSWORD_LENGTH,
    );
    expect(malformed).toEqual([]);
  });

  it('refuses every listed password', () => {
    const accepted = COMMON_PASSWORDS.filter((entry) => checkPasswordPolicy(entry).join() !== TOO_COMMON);
    expect(accepted).toEqual([]);
  });

  it('reports only length problems for other strings, by code point count', () => {
    const listed = new Set(COMMON_PASSWORDS);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (password) => {
        fc.pre(!listed.has(password.normalize('NFC').toLowerCase()));
        const expected = [...password.normalize('NFC')].length < MIN_PASSWORD_LENGTH ? [TOO_SHORT] : [];
        expect(checkPasswordPolicy(password)).toEqual(expected);
      }),
    );
  });
});
