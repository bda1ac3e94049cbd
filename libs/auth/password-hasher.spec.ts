import * as bcrypt from 'bcrypt';
import { PasswordHasher } from './password-hasher';

const pepper = 'test-pepper-0123456789abcdef';
const fast = new PasswordHasher(pepper, 4);

async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('PasswordHasher', () => {
  it('hashes with bcrypt at the given cost and verifies only the same password', async () => {
    const hash = await fast.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/);
    await expect(fast.verify('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(fast.verify('correct horse battery stapl', hash)).resolves.toBe(false);
    await expect(fast.verify('Correct horse battery staple', hash)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    const [first, second] = await Promise.all([fast.hash('same password'), fast.hash('same password')]);
    expect(first).not.toBe(second);
  });

  it('counts every byte of passwords longer than 72 bytes', async () => {
    const prefix = 'x'.repeat(72);
    const hash = await fast.hash(`${prefix}A`);
    await expect(fast.verify(`${prefix}A`, hash)).resolves.toBe(true);
    await expect(fast.verify(`${prefix}B`, hash)).resolves.toBe(false);
    // Control: plain bcrypt would have treated them as the same password.
    const plain = await bcrypt.hash(`${prefix}A`, 4);
    await expect(bcrypt.compare(`${prefix}B`, plain)).resolves.toBe(true);
  });

  it('counts the tail of long multi-byte passwords', async () => {
    const prefix = 'пароль'.repeat(20); // 240 UTF-8 bytes
    const hash = await fast.hash(`${prefix}1`);
    await expect(fast.verify(`${prefix}2`, hash)).resolves.toBe(false);
    await expect(fast.verify(`${prefix}1`, hash)).resolves.toBe(true);
  });

  it('fails under a different pepper', async () => {
    const hash = await fast.hash('correct horse battery staple');
    await expect(
      new PasswordHasher('another-pepper-0123456789', 4).verify('correct horse battery staple', hash),
    ).resolves.toBe(false);
  });

  it('does not store a plain bcrypt of the password', async () => {
    const hash = await fast.hash('correct horse battery staple');
    await expect(bcrypt.compare('correct horse battery staple', hash)).resolves.toBe(false);
  });

  it('treats composed and decomposed Unicode spellings as the same password', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    await expect(fast.verify(decomposed, await fast.hash(composed))).resolves.toBe(true);
  });

  it('answers false, not an error, for a malformed hash', async () => {
    await expect(fast.verify('anything', 'not-a-bcrypt-hash')).resolves.toBe(false);
  });

  it('refuses an empty pepper and out-of-range costs', () => {
    expect(() => new PasswordHasher('')).toThrow('non-empty pepper');
    expect(() => new PasswordHasher(pepper, 3)).toThrow('from 4 to 31');
    expect(() => new PasswordHasher(pepper, 32)).toThrow('from 4 to 31');
    expect(() => new PasswordHasher(pepper, 10.5)).toThrow('from 4 to 31');
  });

  it('verifyAgainstDummy resolves false, whatever the password', async () => {
    await expect(fast.verifyAgainstDummy('correct horse battery staple')).resolves.toBe(false);
    await expect(fast.verifyAgainstDummy('')).resolves.toBe(false);
  });

  it('verifyAgainstDummy takes about as long as a real verify', async () => {
    const hasher = new PasswordHasher(pepper, 9);
    const hash = await hasher.hash('correct horse battery staple');
    const real: number[] = [];
    const dummy: number[] = [];
    for (let round = 0; round < 5; round++) {
      real.push(await timeMs(() => hasher.verify('wrong password guess', hash)));
      dummy.push(await timeMs(() => hasher.verifyAgainstDummy('wrong password guess')));
    }
    const ratio = median(dummy) / median(real);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(1.8);
  });

  it('at the default cost 12, hashes and verifies without blocking the event loop', async () => {
    const hasher = new PasswordHasher(pepper);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const hash = await hasher.hash('correct horse battery staple');
      expect(hash.startsWith('$2b$12$')).toBe(true);
      await expect(hasher.verify('correct horse battery staple', hash)).resolves.toBe(true);
    } finally {
      clearInterval(timer);
    }
    // Two cost-12 bcrypts take well over 100 ms; a blocked loop would have let almost no tick through.
    expect(ticks).toBeGreaterThan(5);
  }, 20_000);
});
