import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Writes libs/auth/data/common-passwords.json, the list the password policy refuses (compared lower-cased, NFC).
 *
 *   npm run build && node dist/deploy/generate-common-passwords.js [<dir of @zxcvbn-ts/language-common>]
 *
 * The source is the common-password dictionary of @zxcvbn-ts/language-common (passwords from public breach corpora,
 * most frequent first; MIT). The policy already refuses anything under 12 characters, and few breached passwords are
 * that long, so the list is the breached ones of 12 characters or more plus what users make of the most frequent
 * short ones to pass a length rule: a digit run, a year or `!` appended, or the word twice. Deterministic: the same
 * package version gives the same file.
 */

const MIN_LENGTH = 12; // the policy's MIN_PASSWORD_LENGTH: shorter entries could never matter
/** How many of the most frequent breached passwords are stretched by the suffix rules. */
const STRETCHED = 500;
/** Words the dictionary does not rank but users of this service reach for: its names, "password" in other languages. */
const LOCAL_WORDS = [
  'gigachat',
  'temporal',
  'chatgpt',
  'openai',
  'contrasena',
  'contraseña',
  'motdepasse',
  'wachtwoord',
  'passwort',
  'salasana',
  'lozinka',
  'parola',
  'senha',
];
/** Well-known passphrases, written as people type them into a password field. */
const PHRASES = ['correcthorsebatterystaple', 'iloveyouforever', 'letmeinletmein', 'nevergonnagiveyouup'];

const DIGIT_RUNS = ['1', '12', '123', '1234', '12345', '123456', '1234567', '12345678', '123456789', '1234567890'];
const YEARS = Array.from({ length: 2030 - 1950 + 1 }, (_, i) => String(1950 + i));
const SUFFIXES = [...DIGIT_RUNS, ...YEARS].flatMap((suffix) => [suffix, `${suffix}!`]).concat(['!', '@123', '123123']);
/** Keyboard rows and sequences, cut to every length from 12 up. */
const WALKS = [
  '1234567890'.repeat(2),
  '0987654321'.repeat(2),
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
];

function normalise(password: string): string {
  return password.normalize('NFC').toLowerCase();
}

function length(password: string): number {
  return [...password].length;
}

function main(): void {
  const root = resolve(__dirname, '../..'); // dist/deploy → the checkout
  const packageDir = process.argv[2] ?? resolve(require.resolve('@zxcvbn-ts/language-common/package.json'), '..');
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
  const breached = (JSON.parse(readFileSync(join(packageDir, 'src/passwords.json'), 'utf8')) as string[]).map(
    normalise,
  );

  const list = new Set<string>();
  const add = (password: string) => {
    if (length(password) >= MIN_LENGTH) list.add(password);
  };
  for (const password of breached) add(password);

  // Stretched: words (at least four letters, ending in one), so that what is appended is what users append.
  const bases = [...new Set(breached.filter((p) => /^[\p{L}@$!.0-9]+$/u.test(p) && /\p{L}$/u.test(p)))]
    .filter((p) => (p.match(/\p{L}/gu) ?? []).length >= 4)
    .slice(0, STRETCHED);
  for (const base of [...bases, ...LOCAL_WORDS.map(normalise)]) {
    for (const suffix of SUFFIXES) add(base + suffix);
    add(base + base);
  }
  for (const phrase of PHRASES) for (const suffix of ['', '1', '!', '123']) add(phrase + suffix);
  for (const symbol of 'abcdefghijklmnopqrstuvwxyz0123456789') {
    for (let n = MIN_LENGTH; n <= 20; n++) add(symbol.repeat(n));
  }
  for (const walk of WALKS) for (let n = MIN_LENGTH; n <= walk.length; n++) add(walk.slice(0, n));

  const passwords = [...list].sort();
  const source = `${pkg.name}@${pkg.version} (src/passwords.json), stretched by deploy/generate-common-passwords.ts`;
  const out = join(root, 'libs/auth/data/common-passwords.json');
  // One entry a line (as Prettier would write it), so a regenerated list diffs entry by entry.
  writeFileSync(out, `${JSON.stringify({ source, passwords }, null, 2)}\n`);
  console.log(`[gigachat] ${passwords.length} common passwords from ${pkg.name}@${pkg.version} written to ${out}`);
}

main();
