import type { Response } from 'supertest';
import { API, MISSING_ID, PROBLEM_JSON } from './support/api';
import { count, Harness, signUp, startHarness, waitFor, type TestUser } from './support/harness';

/*
 * Conversation shares: the owner shares read or write with another account; the sharee sees the conversation in
 * their list and may read it (and its turns); a read share cannot write; revoking takes effect on the next request;
 * nobody else — an admin included — learns that the conversation exists.
 */

type User = TestUser;

describe('conversation shares (real MySQL, Redis, Temporal; fake LLM)', () => {
  let h: Harness;
  let admin: User;
  let owner: User;
  let sharee: User;
  let stranger: User;

  beforeAll(async () => {
    h = await startHarness('shares');
    admin = await signUp(h, 'root'); // the installation's first account is an admin
    owner = await signUp(h, 'olga');
    sharee = await signUp(h, 'sam');
    stranger = await signUp(h, 'trent');
  });
  afterAll(async () => h?.close());

  async function conversationWithTurn(title: string): Promise<{ id: string; turnId: string }> {
    const created = await h.http.post(`${API}/conversations`).set('Authorization', owner.auth).send({ title });
    expect(created.status).toBe(201);
    const sent = await h.http
      .post(`${API}/conversations/${created.body.id}/messages`)
      .set('Authorization', owner.auth)
      .send({ content: 'hello from the owner' });
    expect(sent.status).toBe(200);
    await settleTurn(sent.body.turnId as string);
    return { id: created.body.id as string, turnId: sent.body.turnId as string };
  }

  const share = (conversationId: string, body: unknown, auth = owner.auth) =>
    h.http
      .post(`${API}/conversations/${conversationId}/shares`)
      .set('Authorization', auth)
      .send(body as object);

  async function settleTurn(turnId: string): Promise<void> {
    await waitFor(async () => {
      const rows: unknown[] = await h.db.query(
        "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
        [turnId],
      );
      return rows.length > 0 ? true : undefined;
    });
  }

  async function writes(): Promise<Record<string, number | string>> {
    const tables = ['conversations', 'messages', 'turns', 'conversation_shares'];
    const counts = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(h, t)] as const)));
    const rows: { Table: string; Checksum: string | number | null }[] = await h.db.query(
      `CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')}`,
    );
    return { ...counts, ...Object.fromEntries(rows.map((r) => [`sum:${r.Table}`, String(r.Checksum)])) };
  }

  function expectProblem(res: Response, status: number, code: string, fields?: string[]): void {
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    if (fields) {
      const found = ((res.body.errors ?? []) as { field: string }[]).map((e) => e.field);
      expect([...new Set(found)].sort()).toEqual(fields);
    }
  }

  async function listIds(auth: string): Promise<Record<string, { shared: boolean; permission: string }>> {
    const res = await h.http.get(`${API}/conversations?limit=100`).set('Authorization', auth);
    expect(res.status).toBe(200);
    return Object.fromEntries(
      (res.body.items as { id: string; shared: boolean; permission: string }[]).map((c) => [
        c.id,
        { shared: c.shared, permission: c.permission },
      ]),
    );
  }

  it('read share: listed, readable with its turns, but sending is 403 and writes nothing; write share can send', async () => {
    const { id, turnId } = await conversationWithTurn('shared read');

    const granted = await share(id, { email: sharee.email.toUpperCase(), permission: 'read' });
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({
      userId: sharee.userId,
      email: sharee.email,
      displayName: 'sam',
      permission: 'read',
      createdAt: expect.any(String),
    });

    expect((await listIds(sharee.auth))[id]).toEqual({ shared: true, permission: 'read' });
    expect((await listIds(owner.auth))[id]).toEqual({ shared: false, permission: 'owner' });

    const read = await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, title: 'shared read', shared: true, permission: 'read' });
    expect(read.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'hello from the owner',
      'Echo: hello from the owner',
    ]);
    const turn = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', sharee.auth);
    expect([turn.status, turn.body.status]).toEqual([200, 'completed']);

    const before = await writes();
    const refused = await h.http
      .post(`${API}/conversations/${id}/messages`)
      .set('Authorization', sharee.auth)
      .send({ content: 'may I?' });
    expectProblem(refused, 403, 'forbidden');
    expect(refused.body.detail).toMatch(/read-only/);
    const async = await h.http
      .post(`${API}/conversations/${id}/messages`)
      .set('Authorization', sharee.auth)
      .set('Prefer', 'respond-async')
      .set('Idempotency-Key', 'sharee-key-1')
      .send({ content: 'may I, later?' });
    expectProblem(async, 403, 'forbidden');
    expect(await writes()).toEqual(before);

    // Upgrade: the same share, now write. The sharee's turn is their own.
    const upgraded = await share(id, { email: sharee.email, permission: 'write' });
    expect([upgraded.status, upgraded.body.permission]).toEqual([201, 'write']);
    expect(upgraded.body.createdAt).toBe(granted.body.createdAt);
    const listed = await h.http.get(`${API}/conversations/${id}/shares`).set('Authorization', owner.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([upgraded.body]);

    const sent = await h.http
      .post(`${API}/conversations/${id}/messages`)
      .set('Authorization', sharee.auth)
      .send({ content: 'now I may' });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage).toMatchObject({ role: 'assistant', content: 'Echo: now I may' });
    await settleTurn(sent.body.turnId as string);
    const rows: { user_id: string }[] = await h.db.query('SELECT user_id FROM turns WHERE id = ?', [sent.body.turnId]);
    expect(rows).toEqual([{ user_id: sharee.userId }]);
    // The owner reads the sharee's turn, and sees the new messages in the conversation.
    expect((await h.http.get(`${API}/turns/${sent.body.turnId}`).set('Authorization', owner.auth)).status).toBe(200);
    const seen = await h.http.get(`${API}/conversations/${id}`).set('Authorization', owner.auth);
    expect(seen.body.messages.map((m: { content: string }) => m.content).slice(-2)).toEqual([
      'now I may',
      'Echo: now I may',
    ]);

    const audit: { action: string; actor_id: string }[] = await h.db.query(
      "SELECT action, actor_id FROM audit_log WHERE target_id = ? AND action LIKE 'conversation.%' ORDER BY id",
      [id],
    );
    expect(audit).toEqual([
      { action: 'conversation.shared', actor_id: owner.userId },
      { action: 'conversation.shared', actor_id: owner.userId },
    ]);
  });

  it('revoking takes effect at once: the sharee gets 404 for the conversation, its turns and sending', async () => {
    const { id, turnId } = await conversationWithTurn('to revoke');
    expect((await share(id, { email: sharee.email, permission: 'write' })).status).toBe(201);
    expect((await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth)).status).toBe(200);

    const revoked = await h.http
      .delete(`${API}/conversations/${id}/shares/${sharee.userId}`)
      .set('Authorization', owner.auth);
    expect(revoked.status).toBe(204);

    expectProblem(await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth), 404, 'not_found');
    expectProblem(await h.http.get(`${API}/turns/${turnId}`).set('Authorization', sharee.auth), 404, 'not_found');
    const before = await writes();
    expectProblem(
      await h.http
        .post(`${API}/conversations/${id}/messages`)
        .set('Authorization', sharee.auth)
        .send({ content: 'still there?' }),
      404,
      'not_found',
    );
    expect(await writes()).toEqual(before);
    expect((await listIds(sharee.auth))[id]).toBeUndefined();

    // Revoking again: there is no share.
    expectProblem(
      await h.http.delete(`${API}/conversations/${id}/shares/${sharee.userId}`).set('Authorization', owner.auth),
      404,
      'not_found',
    );
    const audit: { action: string }[] = await h.db.query(
      "SELECT action FROM audit_log WHERE target_id = ? AND action = 'conversation.unshared'",
      [id],
    );
    expect(audit).toHaveLength(1);
  });

  it('a sharee may remove their own share, not anyone else’s', async () => {
    const { id } = await conversationWithTurn('leave it');
    expect((await share(id, { email: sharee.email, permission: 'read' })).status).toBe(201);
    expect((await share(id, { email: stranger.email, permission: 'read' })).status).toBe(201);

    const other = await h.http
      .delete(`${API}/conversations/${id}/shares/${stranger.userId}`)
      .set('Authorization', sharee.auth);
    expectProblem(other, 403, 'forbidden');
    const self = await h.http
      .delete(`${API}/conversations/${id}/shares/${sharee.userId}`)
      .set('Authorization', sharee.auth);
    expect(self.status).toBe(204);
    expectProblem(await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth), 404, 'not_found');
    expect((await h.http.get(`${API}/conversations/${id}`).set('Authorization', stranger.auth)).status).toBe(200);
  });

  it('someone without a share — another user or an admin — sees nothing (404), and cannot manage shares', async () => {
    const { id, turnId } = await conversationWithTurn('private');
    expect((await share(id, { email: sharee.email, permission: 'write' })).status).toBe(201);
    const before = await writes();
    for (const who of [stranger, admin]) {
      expect((await listIds(who.auth))[id]).toBeUndefined();
      expectProblem(await h.http.get(`${API}/conversations/${id}`).set('Authorization', who.auth), 404, 'not_found');
      expectProblem(await h.http.get(`${API}/turns/${turnId}`).set('Authorization', who.auth), 404, 'not_found');
      expectProblem(await h.http.delete(`${API}/conversations/${id}`).set('Authorization', who.auth), 404, 'not_found');
      expectProblem(
        await h.http.post(`${API}/conversations/${id}/messages`).set('Authorization', who.auth).send({ content: 'x' }),
        404,
        'not_found',
      );
      expectProblem(await share(id, { email: who.email, permission: 'write' }, who.auth), 404, 'not_found');
      expectProblem(
        await h.http.get(`${API}/conversations/${id}/shares`).set('Authorization', who.auth),
        404,
        'not_found',
      );
      expectProblem(
        await h.http.delete(`${API}/conversations/${id}/shares/${sharee.userId}`).set('Authorization', who.auth),
        404,
        'not_found',
      );
    }
    expect(await writes()).toEqual(before);
  });

  it('only the owner deletes the conversation or manages its shares; a write sharee gets 403', async () => {
    const { id } = await conversationWithTurn('owner things');
    expect((await share(id, { email: sharee.email, permission: 'write' })).status).toBe(201);
    const before = await writes();
    expectProblem(
      await h.http.delete(`${API}/conversations/${id}`).set('Authorization', sharee.auth),
      403,
      'forbidden',
    );
    expectProblem(await share(id, { email: stranger.email, permission: 'read' }, sharee.auth), 403, 'forbidden');
    expectProblem(
      await h.http.get(`${API}/conversations/${id}/shares`).set('Authorization', sharee.auth),
      403,
      'forbidden',
    );
    expect(await writes()).toEqual(before);

    const deleted = await h.http.delete(`${API}/conversations/${id}`).set('Authorization', owner.auth);
    expect(deleted.status).toBe(204);
    const left: unknown[] = await h.db.query('SELECT * FROM conversation_shares WHERE conversation_id = ?', [id]);
    expect(left).toEqual([]);
    expectProblem(await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth), 404, 'not_found');
  });

  it('pages the list across own and shared conversations without gaps or repeats', async () => {
    const reader = await signUp(h, 'paula');
    const mine: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await h.http
        .post(`${API}/conversations`)
        .set('Authorization', reader.auth)
        .send({ title: `own ${i}` });
      mine.push(res.body.id as string);
    }
    const theirs: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await h.http
        .post(`${API}/conversations`)
        .set('Authorization', owner.auth)
        .send({ title: `sh ${i}` });
      theirs.push(res.body.id as string);
      expect((await share(res.body.id as string, { email: reader.email, permission: 'read' })).status).toBe(201);
    }
    const seen: { id: string; updatedAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await h.http
        .get(`${API}/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', reader.auth);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...(res.body.items as { id: string; updatedAt: string }[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    expect(seen.map((c) => c.id).sort()).toEqual([...mine, ...theirs].sort());
    const order = seen.map((c) => c.updatedAt);
    expect(order).toEqual([...order].sort().reverse());
  });

  describe('bad input: problem+json 400/404 and nothing written', () => {
    let id: string;
    beforeAll(async () => {
      ({ id } = await conversationWithTurn('bad inputs'));
    });

    it.each([
      ['an empty object', {}, ['email', 'permission']],
      ['not an email address', { email: 'not-an-email', permission: 'read' }, ['email']],
      ['an email of the wrong type', { email: 42, permission: 'read' }, ['email']],
      ['an unknown permission', { email: 'x@example.com', permission: 'admin' }, ['permission']],
      ['a permission in upper case', { email: 'x@example.com', permission: 'READ' }, ['permission']],
      ['an unknown field', { email: 'x@example.com', permission: 'read', userId: MISSING_ID }, ['userId']],
    ])('POST shares with %s → 400', async (_name, body, fields) => {
      const before = await writes();
      expectProblem(await share(id, body), 400, 'validation_failed', fields);
      expect(await writes()).toEqual(before);
    });

    it('sharing with yourself → 400; an unknown email → 404 "no user with that email"', async () => {
      const before = await writes();
      expectProblem(await share(id, { email: owner.email, permission: 'write' }), 400, 'validation_failed', ['email']);
      const unknown = await share(id, { email: 'nobody.at.all@example.com', permission: 'read' });
      expectProblem(unknown, 404, 'not_found');
      expect(unknown.body.detail).toMatch(/no user with that email/i);
      expect(await writes()).toEqual(before);
    });

    it.each([
      ['POST', (c: string) => `${API}/conversations/${c}/shares`],
      ['GET', (c: string) => `${API}/conversations/${c}/shares`],
      ['DELETE', (c: string) => `${API}/conversations/${c}/shares/${MISSING_ID}`],
    ] as const)('%s with a bad conversation id → 400, an unknown one → 404', async (method, path) => {
      const before = await writes();
      const call = (url: string) => {
        const req = h.http[method.toLowerCase() as 'post' | 'get' | 'delete'](url).set('Authorization', owner.auth);
        return method === 'POST' ? req.send({ email: sharee.email, permission: 'read' }) : req;
      };
      expectProblem(await call(path('abc')), 400, 'validation_failed', ['id']);
      expectProblem(await call(path(MISSING_ID)), 404, 'not_found');
      expect(await writes()).toEqual(before);
    });

    it('DELETE with a bad user id → 400', async () => {
      const res = await h.http.delete(`${API}/conversations/${id}/shares/not-a-uuid`).set('Authorization', owner.auth);
      expectProblem(res, 400, 'validation_failed', ['userId']);
    });
  });
});
