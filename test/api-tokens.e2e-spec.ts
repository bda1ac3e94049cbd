import { createHash } from 'node:crypto';
import { API, MISSING_ID } from './support/api';
import { Harness, signUp, startHarness, waitFor, type TestUser } from './support/harness';

/**
 * Scoped API tokens over HTTP, against the real stack: created with a secret shown once and stored hashed, listed
 * without it, revoked; every scope enforced on the routes that need it; no way across users.
 */
const TOKEN = /^gct_[A-Za-z0-9_-]{43}$/;

type User = TestUser;

describe('scoped API tokens, end to end (real MySQL, Redis, Temporal; fake LLM)', () => {
  let h: Harness;
  let admin: User;
  let ada: User;
  let bob: User;
  let adaConversation: string;
  let adaTurn: string;

  beforeAll(async () => {
    h = await startHarness('apitokens');
    admin = await signUp(h, 'admin'); // the first account of the installation is its admin
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    expect(conversation.status).toBe(201);
    adaConversation = conversation.body.id;
    const sent = await h.http
      .post(`${API}/conversations/${adaConversation}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'hello from a session' });
    expect(sent.status).toBe(200);
    adaTurn = sent.body.turnId;
    await settleTurn(adaTurn);
  });
  afterAll(async () => h?.close());

  async function settleTurn(turnId: string): Promise<void> {
    await waitFor(async () => {
      const rows: unknown[] = await h.db.query(
        "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
        [turnId],
      );
      return rows.length > 0 ? true : undefined;
    });
  }

  async function createToken(
    who: User,
    scopes: string[],
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; token: string; auth: string; body: Record<string, unknown> }> {
    const res = await h.http
      .post(`${API}/tokens`)
      .set('Authorization', who.auth)
      .send({ name: `token ${scopes.join(' ')}`, scopes, ...extra });
    expect([res.status, res.body.code]).toEqual([201, undefined]);
    return { id: res.body.id, token: res.body.token, auth: `Bearer ${res.body.token}`, body: res.body };
  }

  async function auditRows(action: string, targetId: string) {
    const rows: { actor_id: string | null; request_id: string | null; metadata: unknown }[] = await h.db.query(
      'SELECT actor_id, request_id, metadata FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id',
      [action, targetId],
    );
    return rows.map((row) => ({
      actorId: row.actor_id,
      metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as unknown) : row.metadata,
    }));
  }

  const expectForbidden = (res: { status: number; body: { code?: string; detail?: string } }, what: RegExp) => {
    expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    expect(res.body.detail).toMatch(what);
  };

  describe('create, list, revoke', () => {
    it('shows a gct_ secret once, stores only its SHA-256, and audits token.created', async () => {
      const res = await h.http
        .post(`${API}/tokens`)
        .set('Authorization', ada.auth)
        .set('X-Request-Id', 'tokens-create-0001')
        .send({ name: '  CI bot  ', scopes: ['chat:write', 'chat:read'], expiresInDays: 30 });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'CI bot',
        scopes: ['chat:read', 'chat:write'],
        token: expect.stringMatching(TOKEN),
        prefix: res.body.token.slice(0, 12),
        createdAt: expect.any(String),
        expiresAt: expect.any(String),
        lastUsedAt: null,
      });
      const days = (Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)) / 86_400_000;
      expect(days).toBeCloseTo(30, 2);

      const rows: Record<string, unknown>[] = await h.db.query('SELECT * FROM api_tokens WHERE id = ?', [res.body.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_hash).toBe(createHash('sha256').update(res.body.token).digest('hex'));
      expect(JSON.stringify(rows[0])).not.toContain(res.body.token);
      expect(await auditRows('token.created', res.body.id)).toEqual([
        { actorId: ada.userId, metadata: { scopes: ['chat:read', 'chat:write'], expiresInDays: 30 } },
      ]);
    });

    it('lists the caller’s tokens without their secrets, and only the caller’s', async () => {
      const mine = await createToken(ada, ['chat:read']);
      const theirs = await createToken(bob, ['chat:read']);
      const list = await h.http.get(`${API}/tokens`).set('Authorization', ada.auth);
      expect(list.status).toBe(200);
      const ids = (list.body.items as { id: string }[]).map((t) => t.id);
      expect(ids).toContain(mine.id);
      expect(ids).not.toContain(theirs.id);
      expect(JSON.stringify(list.body)).not.toContain(mine.token);
      expect(JSON.stringify(list.body)).not.toContain(mine.token.slice(12));
      for (const item of list.body.items as Record<string, unknown>[]) {
        expect(Object.keys(item).sort()).toEqual(
          ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'scopes'].sort(),
        );
      }
    });

    it('revokes: the token stops working at once, is gone from the list, and token.revoked is audited', async () => {
      const t = await createToken(ada, ['chat:read']);
      expect((await h.http.get(`${API}/conversations`).set('Authorization', t.auth)).status).toBe(200);
      const revoked = await h.http.delete(`${API}/tokens/${t.id}`).set('Authorization', ada.auth);
      expect(revoked.status).toBe(204);
      const after = await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      expect([after.status, after.body.code]).toEqual([401, 'unauthorized']);
      expect(after.headers['www-authenticate']).toMatch(/^Bearer/);
      const list = await h.http.get(`${API}/tokens`).set('Authorization', ada.auth);
      expect((list.body.items as { id: string }[]).map((x) => x.id)).not.toContain(t.id);
      expect(await auditRows('token.revoked', t.id)).toEqual([{ actorId: ada.userId, metadata: null }]);
      // Revoking again, or a token nobody has: 404.
      expect((await h.http.delete(`${API}/tokens/${t.id}`).set('Authorization', ada.auth)).status).toBe(404);
      expect((await h.http.delete(`${API}/tokens/${MISSING_ID}`).set('Authorization', ada.auth)).status).toBe(404);
    });

    it('refuses an expired token with 401 token_expired', async () => {
      const t = await createToken(ada, ['chat:read'], { expiresInDays: 1 });
      expect((await h.http.get(`${API}/conversations`).set('Authorization', t.auth)).status).toBe(200);
      await h.db.query('UPDATE api_tokens SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = ?', [t.id]);
      const res = await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      expect([res.status, res.body.code]).toEqual([401, 'token_expired']);
    });

    it('refuses unknown gct_ tokens with 401, and accepts the bearer scheme in any case', async () => {
      const t = await createToken(ada, ['chat:read']);
      const forged = `${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`;
      for (const auth of [`Bearer ${forged}`, 'Bearer gct_short', `Bearer gct_${'A'.repeat(43)}`]) {
        const res = await h.http.get(`${API}/conversations`).set('Authorization', auth);
        expect([res.status, res.body.code]).toEqual([401, 'unauthorized']);
      }
      expect((await h.http.get(`${API}/conversations`).set('Authorization', `bearer ${t.token}`)).status).toBe(200);
    });

    it('records last use at most once a minute', async () => {
      const t = await createToken(ada, ['chat:read']);
      const lastUsed = async () =>
        (await h.db.query<{ at: Date | null }[]>('SELECT last_used_at AS at FROM api_tokens WHERE id = ?', [t.id]))[0]!
          .at;
      expect(await lastUsed()).toBeNull();
      await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      const first = await lastUsed();
      expect(first).toBeInstanceOf(Date);
      await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      expect(await lastUsed()).toEqual(first);
      await h.db.query('UPDATE api_tokens SET last_used_at = NOW(3) - INTERVAL 2 MINUTE WHERE id = ?', [t.id]);
      const stale = await lastUsed();
      await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      expect((await lastUsed())!.getTime()).toBeGreaterThan(stale!.getTime());
      const list = await h.http.get(`${API}/tokens`).set('Authorization', ada.auth);
      const item = (list.body.items as { id: string; lastUsedAt: string }[]).find((x) => x.id === t.id);
      expect(Date.parse(item!.lastUsedAt)).toBe((await lastUsed())!.getTime());
    });

    it('grants only scopes the caller holds: admin only to admins', async () => {
      const refused = await h.http
        .post(`${API}/tokens`)
        .set('Authorization', ada.auth)
        .send({ name: 'escalate', scopes: ['chat:read', 'admin'] });
      expectForbidden(refused, /admin/);
      expect(await h.db.query('SELECT id FROM api_tokens WHERE name = ?', ['escalate'])).toEqual([]);
      await createToken(admin, ['admin']);
    });

    it('validates the body, naming each field', async () => {
      const cases: [Record<string, unknown>, string[]][] = [
        [{}, ['name', 'scopes']],
        [{ name: 'x', scopes: [] }, ['scopes']],
        [{ name: 'x', scopes: ['chat:delete'] }, ['scopes']],
        [{ name: 'x', scopes: 'chat:read' }, ['scopes']],
        [{ name: 'x', scopes: ['chat:read', 'chat:read'] }, ['scopes']],
        [{ name: '   ', scopes: ['chat:read'] }, ['name']],
        [{ name: 'x'.repeat(101), scopes: ['chat:read'] }, ['name']],
        [{ name: 'x', scopes: ['chat:read'], expiresInDays: 0 }, ['expiresInDays']],
        [{ name: 'x', scopes: ['chat:read'], expiresInDays: 1.5 }, ['expiresInDays']],
        [{ name: 'x', scopes: ['chat:read'], expiresInDays: 3651 }, ['expiresInDays']],
        [{ name: 'x', scopes: ['chat:read'], userId: bob.userId }, ['userId']],
      ];
      for (const [body, fields] of cases) {
        const res = await h.http.post(`${API}/tokens`).set('Authorization', ada.auth).send(body);
        expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
          JSON.stringify(body),
          400,
          'validation_failed',
        ]);
        expect([...new Set((res.body.errors as { field: string }[]).map((e) => e.field))].sort()).toEqual(fields);
      }
    });
  });

  describe('scope enforcement', () => {
    it('chat:read reads conversations and turns, but cannot create, delete or send (403 naming chat:write)', async () => {
      const t = await createToken(ada, ['chat:read']);
      expect((await h.http.get(`${API}/conversations`).set('Authorization', t.auth)).status).toBe(200);
      expect((await h.http.get(`${API}/conversations/${adaConversation}`).set('Authorization', t.auth)).status).toBe(
        200,
      );
      expect((await h.http.get(`${API}/turns/${adaTurn}`).set('Authorization', t.auth)).status).toBe(200);

      const before = await h.db.query('SELECT COUNT(*) AS n FROM messages');
      expectForbidden(
        await h.http
          .post(`${API}/conversations/${adaConversation}/messages`)
          .set('Authorization', t.auth)
          .send({ content: 'not allowed' }),
        /scope chat:write/,
      );
      expectForbidden(
        await h.http.post(`${API}/conversations`).set('Authorization', t.auth).send({}),
        /scope chat:write/,
      );
      expectForbidden(
        await h.http.delete(`${API}/conversations/${adaConversation}`).set('Authorization', t.auth),
        /scope chat:write/,
      );
      expect(await h.db.query('SELECT COUNT(*) AS n FROM messages')).toEqual(before);
      expect((await h.http.get(`${API}/conversations/${adaConversation}`).set('Authorization', ada.auth)).status).toBe(
        200,
      );
    });

    it('chat:write creates, sends and deletes, but cannot read (403 naming chat:read)', async () => {
      const t = await createToken(ada, ['chat:write']);
      const created = await h.http.post(`${API}/conversations`).set('Authorization', t.auth).send({ title: 'bot' });
      expect(created.status).toBe(201);
      const sent = await h.http
        .post(`${API}/conversations/${created.body.id}/messages`)
        .set('Authorization', t.auth)
        .send({ content: 'from a token' });
      expect(sent.status).toBe(200);
      expect(sent.body.assistantMessage.content).toBe('Echo: from a token');
      await settleTurn(sent.body.turnId);
      expectForbidden(await h.http.get(`${API}/conversations`).set('Authorization', t.auth), /scope chat:read/);
      expectForbidden(
        await h.http.get(`${API}/conversations/${created.body.id}`).set('Authorization', t.auth),
        /scope chat:read/,
      );
      expectForbidden(await h.http.get(`${API}/turns/${sent.body.turnId}`).set('Authorization', t.auth), /chat:read/);
      expect((await h.http.delete(`${API}/conversations/${created.body.id}`).set('Authorization', t.auth)).status).toBe(
        204,
      );
    });

    it('files:read and files:write give no access to chat or admin routes', async () => {
      const t = await createToken(admin, ['files:read', 'files:write']);
      expectForbidden(await h.http.get(`${API}/conversations`).set('Authorization', t.auth), /chat:read/);
      expectForbidden(await h.http.post(`${API}/conversations`).set('Authorization', t.auth).send({}), /chat:write/);
      expectForbidden(await h.http.get(`${API}/admin/users`).set('Authorization', t.auth), /scope admin/);
    });

    it('admin: only a token with the admin scope reaches admin routes, and only while its owner is admin', async () => {
      const chatOnly = await createToken(admin, ['chat:read', 'chat:write', 'files:read', 'files:write']);
      expectForbidden(await h.http.get(`${API}/admin/users`).set('Authorization', chatOnly.auth), /scope admin/);
      expectForbidden(await h.http.get(`${API}/admin/audit`).set('Authorization', chatOnly.auth), /scope admin/);
      expectForbidden(
        await h.http.post(`${API}/admin/users/${bob.userId}/unlock`).set('Authorization', chatOnly.auth),
        /scope admin/,
      );

      const adminToken = await createToken(admin, ['admin']);
      expect((await h.http.get(`${API}/admin/users`).set('Authorization', adminToken.auth)).status).toBe(200);
      expect((await h.http.get(`${API}/admin/audit`).set('Authorization', adminToken.auth)).status).toBe(200);
      // …but the admin scope is all it has.
      expectForbidden(await h.http.get(`${API}/conversations`).set('Authorization', adminToken.auth), /chat:read/);

      // A second admin's admin token loses its power the moment the role is taken away.
      const second = await signUp(h, 'second');
      await h.db.query("UPDATE users SET role = 'admin' WHERE id = ?", [second.userId]);
      const relog = await h.http.post(`${API}/auth/login`).send({ email: second.email, password: second.password });
      const secondAdmin = { ...second, auth: `Bearer ${relog.body.accessToken}` };
      const secondToken = await createToken(secondAdmin, ['admin']);
      expect((await h.http.get(`${API}/admin/users`).set('Authorization', secondToken.auth)).status).toBe(200);
      await h.db.query("UPDATE users SET role = 'user' WHERE id = ?", [second.userId]);
      expectForbidden(await h.http.get(`${API}/admin/users`).set('Authorization', secondToken.auth), /scope admin/);
    });

    it('a user without the admin role is refused admin routes even by session (403)', async () => {
      for (const res of [
        await h.http.get(`${API}/admin/users`).set('Authorization', ada.auth),
        await h.http.get(`${API}/admin/audit`).set('Authorization', ada.auth),
        await h.http.patch(`${API}/admin/users/${ada.userId}`).set('Authorization', ada.auth).send({ role: 'admin' }),
      ]) {
        expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
      }
      const me = await h.db.query('SELECT role FROM users WHERE id = ?', [ada.userId]);
      expect(me).toEqual([{ role: 'user' }]);
    });

    it('an API token cannot manage tokens or the session, whatever its scopes', async () => {
      const t = await createToken(admin, ['chat:read', 'chat:write', 'files:read', 'files:write', 'admin']);
      expectForbidden(
        await h.http
          .post(`${API}/tokens`)
          .set('Authorization', t.auth)
          .send({ name: 'child', scopes: ['chat:read'] }),
        /login session/,
      );
      expectForbidden(await h.http.get(`${API}/tokens`).set('Authorization', t.auth), /login session/);
      expectForbidden(await h.http.delete(`${API}/tokens/${t.id}`).set('Authorization', t.auth), /login session/);
      expectForbidden(await h.http.post(`${API}/auth/logout`).set('Authorization', t.auth), /login session/);
      expectForbidden(
        await h.http
          .post(`${API}/auth/password`)
          .set('Authorization', t.auth)
          .send({ currentPassword: admin.password, newPassword: 'another long passphrase here' }),
        /login session/,
      );
      // Nothing happened: the token and the admin's session both still work.
      expect((await h.http.get(`${API}/conversations`).set('Authorization', t.auth)).status).toBe(200);
      expect((await h.http.get(`${API}/tokens`).set('Authorization', admin.auth)).status).toBe(200);
    });
  });

  describe('two users: no access across them with tokens (404, so existence does not leak)', () => {
    it('bob’s full-scope token cannot read, write or delete ada’s conversation or turn', async () => {
      const t = await createToken(bob, ['chat:read', 'chat:write']);
      const attempts = [
        await h.http.get(`${API}/conversations/${adaConversation}`).set('Authorization', t.auth),
        await h.http.get(`${API}/turns/${adaTurn}`).set('Authorization', t.auth),
        await h.http
          .post(`${API}/conversations/${adaConversation}/messages`)
          .set('Authorization', t.auth)
          .send({ content: 'sneaky' }),
        await h.http.delete(`${API}/conversations/${adaConversation}`).set('Authorization', t.auth),
      ];
      expect(attempts.map((res) => [res.status, res.body.code])).toEqual(Array(4).fill([404, 'not_found']));
      const list = await h.http.get(`${API}/conversations`).set('Authorization', t.auth);
      expect((list.body.items as { id: string }[]).map((c) => c.id)).not.toContain(adaConversation);
      expect((await h.http.get(`${API}/conversations/${adaConversation}`).set('Authorization', ada.auth)).status).toBe(
        200,
      );
    });

    it('bob cannot revoke ada’s token (404), and it keeps working', async () => {
      const t = await createToken(ada, ['chat:read']);
      const res = await h.http.delete(`${API}/tokens/${t.id}`).set('Authorization', bob.auth);
      expect([res.status, res.body.code]).toEqual([404, 'not_found']);
      expect((await h.http.get(`${API}/conversations`).set('Authorization', t.auth)).status).toBe(200);
      expect(await auditRows('token.revoked', t.id)).toEqual([]);
    });

    it('a token acts as its owner: what it creates belongs to its owner', async () => {
      const t = await createToken(bob, ['chat:write']);
      const created = await h.http.post(`${API}/conversations`).set('Authorization', t.auth).send({ title: 'bobs' });
      expect(created.status).toBe(201);
      expect(await h.db.query('SELECT owner_id FROM conversations WHERE id = ?', [created.body.id])).toEqual([
        { owner_id: bob.userId },
      ]);
      expect((await h.http.get(`${API}/conversations/${created.body.id}`).set('Authorization', ada.auth)).status).toBe(
        404,
      );
    });
  });
});
