import { createHash, randomBytes } from 'node:crypto';

/**
 * Crockford's Base32 alphabet in lower case: no i, l, o or u, so nothing reads as another character. 32 symbols, so
 * five random bits pick one without bias.
 */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_COUNT = 10;
const GROUPS = 3;
const GROUP_LENGTH = 4;
const LENGTH = GROUPS * GROUP_LENGTH;

/** `count` random codes shaped `xxxx-xxxx-xxxx` (60 bits each). Show them once; store only their hashes. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const symbols = [...randomBytes(LENGTH)].map((byte) => RECOVERY_CODE_ALPHABET[byte & 31]!).join('');
    return symbols.match(new RegExp(`.{${GROUP_LENGTH}}`, 'g'))!.join('-');
  });
}

/**
 * The canonical form of what a user typed: case, hyphens and spaces do not matter, and the look-alikes Crockford
 * allows read as what they look like (o → 0, i and l → 1). Null when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (code.length !== LENGTH) return null;
  return [...code].every((symbol) => RECOVERY_CODE_ALPHABET.includes(symbol)) ? code : null;
}

/** What is stored for a code: SHA-256 (hex) of its canonical form. 60 random bits need no slow hash. */
export function hashRecoveryCode(normalised: string): string {
  return createHash('sha256').update(normalised, 'utf8').digest('hex');
}
