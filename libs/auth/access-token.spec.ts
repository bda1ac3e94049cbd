import { AccessTokenCodec, AccessTokenError, parseTokenKey } from './access-token';
import type { AccessTokenCodecOptions } from './access-token';
import { createV4LocalKey, encryptV4LocalPayload } from './paseto-v4-local';

const key1 = new Uint8Array(32).fill(1);
const key2 = new Uint8Array(32).fill(2);
const start = new Date('2030-05-01T12:00:00.000Z');

function codec(overrides: Partial<AccessTokenCodecOptions> = {}, at: Date = start): AccessTokenCodec {
  return new AccessTokenCodec({
    keys: [{ id: 'k1', key: key1 }],
    currentKeyId: 'k1',
    issuer: 'https://gigachat.test',
    audience: 'gigachat-api',
    ttlSeconds: 900,
    now: () => at,
    ...overrides,
  });
}

const later = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const footerOf = (token: string) => Buffer.from(token.split('.')[3] ?? '', 'base64url').toString('utf8');
const withFooter = (token: string, footer: string) =>
  `${token.split('.').slice(0, 3).join('.')}.${Buffer.from(footer).toString('base64url')}`;

/** Expects an AccessTokenError with the code; `reason` is matched against the underlying cause (or the error). */
async function expectRejection(promise: Promise<unknown>, code: AccessTokenError['code'], reason?: RegExp) {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(AccessTokenError);
  expect((error as AccessTokenError).code).toBe(code);
  if (reason !== undefined) {
    const { cause, message } = error as AccessTokenError;
    expect(cause instanceof Error ? cause.message : message).toMatch(reason);
  }
}

/** Mints a token with arbitrary claim JSON under a key, as a holder of that key could. */
function mint(claims: Record<string, unknown>, kid = 'k1', key = key1): Promise<string> {
  const footer = Buffer.from(JSON.stringify({ kid }));
  const body = encryptV4LocalPayload(createV4LocalKey(key), Buffer.from(JSON.stringify(claims)), footer);
  return Promise.resolve(`v4.local.${Buffer.from(body).toString('base64url')}.${footer.toString('base64url')}`);
}

const validClaims = {
  sub: 'user-1',
  sid: 'session-1',
  role: 'member',
  jti: 'jti-1',
  iss: 'https://gigachat.test',
  aud: 'gigachat-api',
  iat: '2030-05-01T12:00:00Z',
  exp: '2030-05-01T12:15:00Z',
};

describe('AccessTokenCodec.issue', () => {
  it('issues a v4.local token whose claims verify back, with the key id in the footer', async () => {
    const issued = await codec().issue({ sub: 'user-1', sid: 'session-1', role: 'admin', scopes: ['chat:write'] });
    expect(issued.token.startsWith('v4.local.')).toBe(true);
    expect(footerOf(issued.token)).toBe('{"kid":"k1"}');
    expect(issued.expiresAt).toEqual(new Date('2030-05-01T12:15:00.000Z'));
    await expect(codec().verify(issued.token)).resolves.toEqual({
      sub: 'user-1',
      sid: 'session-1',
      role: 'admin',
      scopes: ['chat:write'],
      jti: issued.jti,
      iss: 'https://gigachat.test',
      aud: 'gigachat-api',
      iat: '2030-05-01T12:00:00Z',
      exp: '2030-05-01T12:15:00Z',
    });
  });

  it('leaves scopes out when none are given', async () => {
    const issued = await codec().issue({ sub: 'user-1', sid: 'session-1', role: 'member' });
    const claims = await codec().verify(issued.token);
    expect(claims).not.toHaveProperty('scopes');
  });

  it('gives every token a fresh 128-bit jti', async () => {
    const jtis = await Promise.all(
      Array.from({ length: 20 }, async () => (await codec().issue({ sub: 'u', sid: 's', role: 'r' })).jti),
    );
    expect(new Set(jtis).size).toBe(20);
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
  });

  it('truncates issue time to whole seconds so expiresAt equals the exp claim', async () => {
    const issued = await codec({}, new Date('2030-05-01T12:00:00.987Z')).issue({ sub: 'u', sid: 's', role: 'r' });
    expect(issued.expiresAt).toEqual(new Date('2030-05-01T12:15:00.000Z'));
    const claims = await codec({}, new Date('2030-05-01T12:00:01Z')).verify(issued.token);
    expect(claims.exp).toBe('2030-05-01T12:15:00Z');
  });

  it('refuses empty subject fields', async () => {
    await expect(codec().issue({ sub: '', sid: 's', role: 'r' })).rejects.toThrow('"sub" must be a non-empty string');
  });
});

describe('AccessTokenCodec key rotation', () => {
  const rotated = (currentKeyId: string) =>
    codec({
      keys: [
        { id: 'k1', key: key1 },
        { id: 'k2', key: key2 },
      ],
      currentKeyId,
    });

  it('verifies tokens of the previous key after the current key changes', async () => {
    const old = await codec().issue({ sub: 'user-1', sid: 's', role: 'r' });
    const fresh = await rotated('k2').issue({ sub: 'user-2', sid: 's', role: 'r' });
    expect(footerOf(fresh.token)).toBe('{"kid":"k2"}');
    expect((await rotated('k2').verify(old.token)).sub).toBe('user-1');
    expect((await rotated('k2').verify(fresh.token)).sub).toBe('user-2');
  });

  it('rejects a token whose key id is unknown', async () => {
    const fresh = await rotated('k2').issue({ sub: 'user-2', sid: 's', role: 'r' });
    await expectRejection(codec().verify(fresh.token), 'invalid_token', /Unknown key id/);
  });

  it('rejects a token whose footer was pointed at another known key', async () => {
    const fresh = await rotated('k2').issue({ sub: 'user-2', sid: 's', role: 'r' });
    await expectRejection(
      rotated('k2').verify(withFooter(fresh.token, '{"kid":"k1"}')),
      'invalid_token',
      /authentication failed/,
    );
  });
});

describe('AccessTokenCodec.verify rejects', () => {
  let token: string;
  beforeAll(async () => {
    token = (await codec().issue({ sub: 'user-1', sid: 'session-1', role: 'member' })).token;
  });

  it.each([
    ['an empty string', ''],
    ['a v2.local token', 'v2.local.AAAA.eyJraWQiOiJrMSJ9'],
    ['a v3.local token', 'v3.local.AAAA.eyJraWQiOiJrMSJ9'],
    ['a v4.public token', 'v4.public.AAAA.eyJraWQiOiJrMSJ9'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln'],
  ])('%s', async (_label, candidate) => {
    await expectRejection(codec().verify(candidate), 'invalid_token');
  });

  it('a version prefix swapped onto a real token', async () => {
    await expectRejection(codec().verify(token.replace('v4.local.', 'v2.local.')), 'invalid_token');
    await expectRejection(codec().verify(token.replace('v4.local.', 'v4.public.')), 'invalid_token');
  });

  it('an overlong token, before any decoding', async () => {
    await expectRejection(codec().verify(`${token}${'A'.repeat(5000)}`), 'invalid_token', /too long/);
  });

  it('a non-string token', async () => {
    await expectRejection(codec().verify(undefined as unknown as string), 'invalid_token');
  });

  it.each([
    ['missing', null],
    ['not JSON', 'kid=k1'],
    ['a JSON array', '["k1"]'],
    ['JSON null', 'null'],
    ['a numeric kid', '{"kid":1}'],
    ['extra footer fields', '{"kid":"k1","x":1}'],
    ['an oversized footer', JSON.stringify({ kid: 'k'.repeat(300) })],
    ['not UTF-8', '\uFFFD'],
  ])('a footer that is %s', async (_label, footer) => {
    const parts = token.split('.').slice(0, 3).join('.');
    const candidate =
      footer === null
        ? parts
        : footer === '\uFFFD'
          ? `${parts}.${Buffer.from([0xff, 0xfe]).toString('base64url')}`
          : withFooter(token, footer);
    await expectRejection(codec().verify(candidate), 'invalid_token');
  });

  it('a footer re-encoded with the same kid (the footer bytes are authenticated)', async () => {
    await expectRejection(
      codec().verify(withFooter(token, '{ "kid": "k1" }')),
      'invalid_token',
      /authentication failed/,
    );
  });

  it('a tampered body', async () => {
    const [v, purpose, body, footer] = token.split('.') as [string, string, string, string];
    const bytes = Buffer.from(body, 'base64url');
    for (const index of [0, 40, bytes.length - 1]) {
      const copy = Buffer.from(bytes);
      copy[index] = copy[index]! ^ 1;
      const tampered = `${v}.${purpose}.${copy.toString('base64url')}.${footer}`;
      await expectRejection(codec().verify(tampered), 'invalid_token', /authentication failed/);
    }
  });

  it('a truncated body', async () => {
    const [v, purpose, body, footer] = token.split('.') as [string, string, string, string];
    await expectRejection(codec().verify(`${v}.${purpose}.${body.slice(0, 60)}.${footer}`), 'invalid_token');
  });

  it('a token sealed under a different key with the same key id', async () => {
    await expectRejection(
      codec({ keys: [{ id: 'k1', key: key2 }] }).verify(token),
      'invalid_token',
      /authentication failed/,
    );
  });

  it('the wrong issuer', async () => {
    await expectRejection(codec({ issuer: 'https://other.test' }).verify(token), 'invalid_token', /"iss"/);
  });

  it('the wrong audience', async () => {
    await expectRejection(codec({ audience: 'other-api' }).verify(token), 'invalid_token', /"aud"/);
  });

  it('an expired token, with token_expired', async () => {
    await expectRejection(codec({}, later(900 + 6)).verify(token), 'token_expired');
    await expectRejection(codec({}, later(86_400)).verify(token), 'token_expired');
  });

  it('but not a token at its expiry instant or within the clock tolerance', async () => {
    await expect(codec({}, later(900)).verify(token)).resolves.toMatchObject({ sub: 'user-1' });
    await expect(codec({}, later(904)).verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('a token issued in the future beyond the clock tolerance', async () => {
    const future = (await codec({}, later(60)).issue({ sub: 'u', sid: 's', role: 'r' })).token;
    await expectRejection(codec().verify(future), 'invalid_token', /issued in the future/);
    const slightlyAhead = (await codec({}, later(3)).issue({ sub: 'u', sid: 's', role: 'r' })).token;
    await expect(codec().verify(slightlyAhead)).resolves.toMatchObject({ sub: 'u' });
  });

  it.each(['sub', 'sid', 'role', 'jti', 'iss', 'aud', 'iat', 'exp'])('a token without "%s"', async (claim) => {
    const claims: Record<string, unknown> = { ...validClaims };
    delete claims[claim];
    await expectRejection(codec().verify(await mint(claims)), 'invalid_token', new RegExp(`"${claim}"`));
  });

  it.each([
    ['sub', 42],
    ['sid', ''],
    ['role', null],
    ['jti', ['x']],
    ['scopes', 'chat:write'],
    ['scopes', [1, 2]],
    ['exp', 1904212800],
    ['iat', 'yesterday'],
  ])('a token whose "%s" is %p', async (claim, value) => {
    await expectRejection(
      codec().verify(await mint({ ...validClaims, [claim]: value })),
      'invalid_token',
      new RegExp(`"${claim}"`),
    );
  });

  it('(control) accepts the hand-minted claims when they are all valid', async () => {
    await expect(codec().verify(await mint(validClaims))).resolves.toEqual(validClaims);
  });
});

describe('AccessTokenCodec construction', () => {
  it.each<[string, Partial<AccessTokenCodecOptions>, string]>([
    ['no keys', { keys: [] }, 'at least one key'],
    ['an unknown current key', { currentKeyId: 'k9' }, '"k9" is not among the keys'],
    [
      'duplicate key ids',
      {
        keys: [
          { id: 'k1', key: key1 },
          { id: 'k1', key: key2 },
        ],
      },
      'Duplicate',
    ],
    ['a short key', { keys: [{ id: 'k1', key: new Uint8Array(16) }] }, '32 bytes'],
    ['a zero ttl', { ttlSeconds: 0 }, 'ttlSeconds'],
    ['an empty issuer', { issuer: '' }, 'issuer'],
  ])('refuses %s', (_label, overrides, message) => {
    expect(() => codec(overrides)).toThrow(message);
  });
});

describe('parseTokenKey', () => {
  const bytes = Uint8Array.from({ length: 32 }, (_, i) => i);

  it('accepts a PASERK k4.local key', () => {
    expect(parseTokenKey(`k4.local.${Buffer.from(bytes).toString('base64url')}`)).toEqual(bytes);
  });

  it('accepts plain base64 of 32 bytes, padded or not, ignoring surrounding whitespace', () => {
    const base64 = Buffer.from(bytes).toString('base64');
    expect(parseTokenKey(base64)).toEqual(bytes);
    expect(parseTokenKey(base64.replace(/=+$/, ''))).toEqual(bytes);
    expect(parseTokenKey(` ${base64}\n`)).toEqual(bytes);
  });

  it.each([
    ['a k4.local key of 31 bytes', `k4.local.${Buffer.alloc(31, 9).toString('base64url')}`, '32 bytes'],
    ['a padded k4.local key', `k4.local.${Buffer.alloc(32, 9).toString('base64url')}=`, 'unpadded base64url'],
    ['a k4.local key in standard base64', `k4.local.${Buffer.alloc(32, 0xfb).toString('base64')}`, 'base64url'],
    ['a k3.local key', `k3.local.${Buffer.alloc(32, 9).toString('base64url')}`, 'k4.local'],
    ['a k4.secret key', `k4.secret.${Buffer.alloc(64, 9).toString('base64url')}`, 'k4.local'],
    ['base64 of 16 bytes', Buffer.alloc(16, 9).toString('base64'), 'decodes to 16'],
    ['base64 of 64 bytes', Buffer.alloc(64, 9).toString('base64'), 'decodes to 64'],
    ['hex', Buffer.alloc(32, 9).toString('hex'), 'decodes to 48'],
    ['text that is not base64', 'correct horse battery staple!', 'neither'],
    ['an empty string', '', 'neither'],
  ])('rejects %s', (_label, value, message) => {
    expect(() => parseTokenKey(value)).toThrow(message);
  });

  it('never repeats the key in its error message', () => {
    const secret = `k4.local.${Buffer.alloc(31, 9).toString('base64url')}`;
    expect(() => parseTokenKey(secret)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret.slice(9)) }),
    );
  });
});
