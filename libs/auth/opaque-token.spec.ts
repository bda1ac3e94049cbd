import { createHash } from 'node:crypto';
import { generateOpaqueToken, hashOpaqueToken } from './opaque-token';

describe('generateOpaqueToken', () => {
  it('is the prefix followed by 256 random bits in base64url', () => {
    const { token } = generateOpaqueToken('gcr_');
    expect(token).toMatch(/^gcr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice('gcr_'.length), 'base64url')).toHaveLength(32);
  });

  it('returns the SHA-256 hex of the whole token as its hash', () => {
    const { token, hash } = generateOpaqueToken('gcr_');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashOpaqueToken(token)).toBe(hash);
  });

  it('never repeats a token', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateOpaqueToken('t_').token));
    expect(tokens.size).toBe(1000);
  });

  it.each(['', 'has space', 'x'.repeat(33), 'dots.are.out', 'ünïcode'])('refuses the prefix %p', (prefix) => {
    expect(() => generateOpaqueToken(prefix)).toThrow('prefix');
  });
});

describe('hashOpaqueToken', () => {
  it('matches a known SHA-256 value', () => {
    expect(hashOpaqueToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('distinguishes tokens that differ only in the prefix', () => {
    const { token } = generateOpaqueToken('gcr_');
    expect(hashOpaqueToken(token.replace('gcr_', 'gca_'))).not.toBe(hashOpaqueToken(token));
  });
});
