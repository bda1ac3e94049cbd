// Imported (not read from disk) so that tsc copies the list into dist/ beside this module.
import commonPasswordList from './data/common-passwords.json';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/** Built on the first check; lower case, NFC (written by deploy/generate-common-passwords.ts). */
let commonPasswords: ReadonlySet<string> | undefined;

/**
 * Problems with a new password, as messages a user can act on; an empty list means it is acceptable.
 * Lengths count Unicode code points of the NFC form (as the hasher normalises), so 'é' counts once however
 * it was typed; the common-password check ignores case.
 */
export function checkPasswordPolicy(password: string): string[] {
  const normalized = password.normalize('NFC');
  const length = [...normalized].length;
  const problems: string[] = [];
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(`Password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
  }
  commonPasswords ??= new Set(commonPasswordList.passwords);
  if (commonPasswords.has(normalized.toLowerCase())) {
    problems.push('Password is too common; choose one that is harder to guess.');
  }
  return problems;
}
