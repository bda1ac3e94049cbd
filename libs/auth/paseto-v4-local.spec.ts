import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublicProtocol } from 'paseto';
import { ImportPublicKeyFactory } from 'paseto/v4/public';
import { createV4Local, createV4LocalKey, decryptV4LocalPayload, encryptV4LocalPayload } from './paseto-v4-local';
import type { V4LocalKey } from './paseto-v4-local';

interface Vector {
  name: string;
  'expect-fail': boolean;
  key?: string;
  'public-key'?: string;
  nonce?: string;
  token: string;
  payload: string | null;
  footer: string;
  'implicit-assertion': string;
}

// Official vectors from paseto-standard/test-vectors (see "source" in the fixture).
const fixture = JSON.parse(
  readFileSync(join(__dirname, '../../test/fixtures/paseto/v4-local-vectors.json'), 'utf8'),
) as { tests: Vector[] };
const encryptionVectors = fixture.tests.filter((vector) => !vector['expect-fail']);
const failureVectors = fixture.tests.filter((vector) => vector['expect-fail']);

const utf8 = (text: string) => new TextEncoder().encode(text);
const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
// Every vector expires at 2022-01-01; decrypt "before" that so only the cryptography is under test.
const beforeExpiry = new Date('2021-12-31T00:00:00Z');
const someKey = hex('707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f');

describe('PASETO v4.local', () => {
  it('has the official vectors loaded', () => {
    expect(encryptionVectors.map((vector) => vector.name)).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((n) => `4-E-${n}`),
    );
    expect(failureVectors.map((vector) => vector.name)).toEqual(['4-F-1', '4-F-2', '4-F-3', '4-F-4', '4-F-5']);
  });

  describe.each(encryptionVectors.map((vector) => [vector.name, vector] as const))('vector %s', (_name, vector) => {
    const key = createV4LocalKey(hex(vector.key!));
    const payload = vector.payload!;

    it('encrypts to the expected token with the vector nonce', async () => {
      // paseto serialises claims with JSON.stringify, which reproduces the vector payload byte for byte.
      expect(JSON.stringify(JSON.parse(payload))).toBe(payload);
      const v4 = createV4Local({ nonce: () => hex(vector.nonce!) });
      const token = await v4.Encrypt(key, JSON.parse(payload) as object, {
        footer: utf8(vector.footer),
        implicitAssertion: utf8(vector['implicit-assertion']),
        addIssuedAt: false,
      });
      expect(token).toBe(vector.token);
    });

    it('decrypts the token to the expected payload and footer', async () => {
      const result = await createV4Local().Decrypt(key, vector.token, {
        implicitAssertion: utf8(vector['implicit-assertion']),
        now: beforeExpiry,
      });
      expect(result.claims).toEqual(JSON.parse(payload));
      expect(new TextDecoder().decode(result.footer)).toBe(vector.footer);
    });

    it('matches the raw spec operations byte for byte', () => {
      const [, , body] = vector.token.split('.') as [string, string, string];
      const footer = utf8(vector.footer);
      const implicit = utf8(vector['implicit-assertion']);
      const sealed = encryptV4LocalPayload(key, utf8(payload), footer, implicit, () => hex(vector.nonce!));
      expect(Buffer.from(sealed).toString('base64url')).toBe(body);
      const opened = decryptV4LocalPayload(key, Uint8Array.from(Buffer.from(body, 'base64url')), footer, implicit);
      expect(new TextDecoder().decode(opened)).toBe(payload);
    });

    it('rejects the token under a different implicit assertion', async () => {
      await expect(
        createV4Local().Decrypt(key, vector.token, {
          implicitAssertion: utf8(`${vector['implicit-assertion']}x`),
          now: beforeExpiry,
        }),
      ).rejects.toMatchObject({ code: 'ERR_PASETO_INVALID_TOKEN' });
    });
  });

  describe.each(
    failureVectors.filter((vector) => vector.key !== undefined).map((vector) => [vector.name, vector] as const),
  )('expect-fail vector %s', (_name, vector) => {
    it('is rejected', async () => {
      await expect(
        createV4Local().Decrypt(createV4LocalKey(hex(vector.key!)), vector.token, {
          implicitAssertion: utf8(vector['implicit-assertion']),
          now: beforeExpiry,
        }),
      ).rejects.toMatchObject({ code: 'ERR_PASETO_INVALID_TOKEN' });
    });
  });

  it('expect-fail vector 4-F-1: refuses a v4.public key in place of a local key', async () => {
    // The token is sealed under the public key's bytes; only the key's type may stop it, so a public key
    // object must never be accepted where a v4.local key is expected.
    const vector = failureVectors.find((candidate) => candidate.name === '4-F-1')!;
    const paserk = `k4.public.${Buffer.from(vector['public-key']!, 'hex').toString('base64url')}` as const;
    const publicKey = await new PublicProtocol(ImportPublicKeyFactory).ImportPublicKey(paserk);
    await expect(
      createV4Local().Decrypt(publicKey as unknown as V4LocalKey, vector.token, {
        implicitAssertion: utf8(vector['implicit-assertion']),
        now: beforeExpiry,
      }),
    ).rejects.toThrow('Not a key created by createV4LocalKey');
  });

  it('round-trips claims with random nonces, giving a different token each time', async () => {
    const v4 = createV4Local();
    const key = createV4LocalKey(someKey);
    const first = await v4.Encrypt(key, { sub: 'alice' });
    const second = await v4.Encrypt(key, { sub: 'alice' });
    expect(first).not.toBe(second);
    expect(first.startsWith('v4.local.')).toBe(true);
    expect((await v4.Decrypt(key, first)).claims.sub).toBe('alice');
  });

  it('rejects a token encrypted under another key', async () => {
    const v4 = createV4Local();
    const token = await v4.Encrypt(createV4LocalKey(someKey), { sub: 'alice' });
    const otherKey = createV4LocalKey(new Uint8Array(32).fill(7));
    await expect(v4.Decrypt(otherKey, token)).rejects.toMatchObject({ code: 'ERR_PASETO_INVALID_TOKEN' });
  });

  it('rejects a body too short to hold a nonce and a tag', async () => {
    const token = `v4.local.${Buffer.alloc(63).toString('base64url')}`;
    await expect(createV4Local().Decrypt(createV4LocalKey(someKey), token)).rejects.toMatchObject({
      code: 'ERR_PASETO_INVALID_TOKEN',
    });
  });

  it('accepts only 32-byte keys and keeps the key bytes out of the key object', () => {
    expect(() => createV4LocalKey(new Uint8Array(31))).toThrow('exactly 32 bytes');
    expect(() => createV4LocalKey(new Uint8Array(33))).toThrow('exactly 32 bytes');
    const key = createV4LocalKey(someKey);
    expect(JSON.stringify(key)).toBe('{"algorithm":{"name":"PASETO v4.local"},"type":"secret","extractable":false}');
  });

  it('copies the key bytes, so later changes to the caller buffer do not change the key', async () => {
    const material = Uint8Array.from(someKey);
    const key = createV4LocalKey(material);
    const token = await createV4Local().Encrypt(key, { sub: 'alice' });
    material.fill(0);
    await expect(createV4Local().Decrypt(createV4LocalKey(someKey), token)).resolves.toBeDefined();
  });

  it('refuses an injected nonce of the wrong length', async () => {
    const v4 = createV4Local({ nonce: () => new Uint8Array(24) });
    await expect(v4.Encrypt(createV4LocalKey(someKey), { sub: 'alice' })).rejects.toThrow('32 bytes');
  });
});
