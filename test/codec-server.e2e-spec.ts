import { defaultPayloadConverter } from '@temporalio/common';
import { payloadCodec } from '#libs/temporal/data-converter';
import { Harness, signUp, startHarness, TestUser } from './support/harness';

const UI = 'http://127.0.0.1:8233';
const b64 = (value: Uint8Array | string) => Buffer.from(value).toString('base64');
const ENCRYPTED = b64('binary/encrypted');

/** A payload in the JSON form the Temporal UI sends: metadata values and data base64. */
function jsonPayload(value: unknown) {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(payload.data ?? new Uint8Array(0)),
  };
}

describe('codec server for the Temporal UI and CLI (POST /api/v1/codec/encode, /decode)', () => {
  let h: Harness;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    h = await startHarness('codecserver', { worker: false, fakeLlm: false });
    admin = await signUp(h, 'root'); // the installation's first account: an admin
    user = await signUp(h, 'ada');
  });
  afterAll(async () => h?.close());

  it('refuses anyone but an admin with problem+json, whatever the body', async () => {
    const body = { payloads: [jsonPayload('secret')] };
    for (const route of ['encode', 'decode']) {
      const anonymous = await h.http.post(`/api/v1/codec/${route}`).send(body);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
      const notAdmin = await h.http.post(`/api/v1/codec/${route}`).set('Authorization', user.auth).send(body);
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body).toMatchObject({ code: 'forbidden' });
      expect(JSON.stringify(notAdmin.body)).not.toContain('secret');
    }
  });

  it('decodes what the workers sealed and encodes as they do, in the UI’s request shape', async () => {
    const answer = { content: 'Echo: a private question' };
    // Sealed by the same codec (and keys) the API and workers use for Temporal.
    const [sealed] = await payloadCodec(h.config.temporal).encode([defaultPayloadConverter.toPayload(answer)]);
    const fromHistory = { metadata: { encoding: ENCRYPTED, ...keyIdOf(sealed!.metadata!) }, data: b64(sealed!.data!) };
    const clear = jsonPayload('clear before encryption');

    const decoded = await h.http
      .post('/api/v1/codec/decode')
      .set('Authorization', admin.auth)
      .set('X-Namespace', h.config.temporal.namespace)
      .send({ payloads: [fromHistory, clear] });
    expect(decoded.status).toBe(200);
    expect(decoded.body.payloads).toEqual([jsonPayload(answer), clear]);

    const encoded = await h.http
      .post('/api/v1/codec/encode')
      .set('Authorization', admin.auth)
      .send({ payloads: [clear] });
    expect(encoded.status).toBe(200);
    expect(encoded.body.payloads).toHaveLength(1);
    expect(encoded.body.payloads[0].metadata.encoding).toBe(ENCRYPTED);
    expect(Buffer.from(encoded.body.payloads[0].data, 'base64').includes('clear before')).toBe(false);
    const back = await h.http.post('/api/v1/codec/decode').set('Authorization', admin.auth).send(encoded.body);
    expect(back.body).toEqual({ payloads: [clear] });
  });

  it('names a payload that does not decode, and refuses bodies of another shape', async () => {
    const [sealed] = await payloadCodec(h.config.temporal).encode([defaultPayloadConverter.toPayload('x')]);
    const data = Buffer.from(sealed!.data!);
    data[data.length - 1] = data[data.length - 1]! ^ 1;
    const tampered = await h.http
      .post('/api/v1/codec/decode')
      .set('Authorization', admin.auth)
      .send({
        payloads: [
          jsonPayload('fine'),
          { metadata: { encoding: ENCRYPTED, ...keyIdOf(sealed!.metadata!) }, data: b64(data) },
        ],
      });
    expect(tampered.status).toBe(400);
    expect(tampered.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'payloads.1' }] });

    const unknownKey = await h.http
      .post('/api/v1/codec/decode')
      .set('Authorization', admin.auth)
      .send({ payloads: [{ metadata: { encoding: ENCRYPTED, 'encryption-key-id': b64('gone') }, data: b64(data) }] });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.errors[0].message).toMatch(/key id "gone"/);

    for (const body of [
      {},
      { payloads: 'x' },
      { payloads: [{ data: 'not base64!' }] },
      { payloads: [{ metadata: { encoding: 1 } }] },
    ]) {
      const res = await h.http.post('/api/v1/codec/decode').set('Authorization', admin.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
  });

  it('lets only the Temporal UI’s origin call it from a browser', async () => {
    const preflight = await h.http
      .options('/api/v1/codec/decode')
      .set('Origin', UI)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type,x-namespace');
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST',
    });
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);

    const elsewhere = await h.http
      .options('/api/v1/codec/decode')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();

    const call = await h.http
      .post('/api/v1/codec/decode')
      .set('Origin', UI)
      .set('Authorization', admin.auth)
      .send({ payloads: [] });
    expect(call.status).toBe(200);
    expect(call.headers['access-control-allow-origin']).toBe(UI);
    expect(call.body).toEqual({ payloads: [] });
    // Other routes keep API_CORS_ORIGINS (empty here): the UI's origin gets nothing there.
    const other = await h.http.get('/api/v1/auth/me').set('Origin', UI).set('Authorization', admin.auth);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives an admin the codec cookie the Temporal UI can send, accepted by encode and decode only', async () => {
    const sealed = (
      await h.http
        .post('/api/v1/codec/encode')
        .set('Authorization', admin.auth)
        .send({
          payloads: [jsonPayload('cookie secret')],
        })
    ).body as { payloads: unknown[] };

    const opened = await h.http.post('/api/v1/codec/session').set('Authorization', admin.auth);
    expect(opened.status).toBe(200);
    expect(Date.parse(opened.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(opened.body.temporalUiUrl).toBe(h.config.temporal.uiUrl);
    const setCookie = String(opened.headers['set-cookie']);
    expect(setCookie).toMatch(/^gigachat_codec=[^;]+; Path=\/api\/v1\/codec; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    expect(cookie).toBe(`gigachat_codec=${admin.auth.slice('Bearer '.length)}`);

    const decoded = await h.http.post('/api/v1/codec/decode').set('Cookie', cookie).set('Origin', UI).send(sealed);
    expect(decoded.status).toBe(200);
    expect(decoded.body.payloads).toEqual([jsonPayload('cookie secret')]);
    // Nowhere else: the cookie is not a way into the rest of the API.
    expect((await h.http.get('/api/v1/auth/me').set('Cookie', cookie)).status).toBe(401);
    // Not for someone else's cookie, a non-admin's token in it, a made-up value, or an API token.
    for (const value of [user.auth.slice('Bearer '.length), 'not-a-token-at-all', 'gct_abcdefghijklmnop']) {
      const refused = await h.http.post('/api/v1/codec/decode').set('Cookie', `gigachat_codec=${value}`).send(sealed);
      expect([value.slice(0, 4), refused.status]).toEqual([
        value.slice(0, 4),
        value === user.auth.slice(7) ? 403 : 401,
      ]);
    }
    // Only a session gets one, and only an admin's.
    expect((await h.http.post('/api/v1/codec/session').set('Authorization', user.auth)).status).toBe(403);

    const closed = await h.http.delete('/api/v1/codec/session').set('Authorization', admin.auth);
    expect(closed.status).toBe(204);
    expect(String(closed.headers['set-cookie'])).toMatch(/^gigachat_codec=; Path=\/api\/v1\/codec; Max-Age=0;/);

    // Signing out ends the session, and with it what the cookie opens.
    const session = await h.http.post('/api/v1/auth/login').send({ email: admin.email, password: admin.password });
    const again = await h.http.post('/api/v1/codec/session').set('Authorization', `Bearer ${session.body.accessToken}`);
    const second = String(again.headers['set-cookie']).split(';')[0]!;
    expect((await h.http.post('/api/v1/codec/decode').set('Cookie', second).send(sealed)).status).toBe(200);
    await h.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.body.accessToken}`).send({});
    expect((await h.http.post('/api/v1/codec/decode').set('Cookie', second).send(sealed)).status).toBe(401);
  });
});

function keyIdOf(metadata: Record<string, Uint8Array>): Record<string, string> {
  return {
    'encryption-key-id': b64(metadata['encryption-key-id']!),
    'encryption-cipher': b64(metadata['encryption-cipher']!),
  };
}
