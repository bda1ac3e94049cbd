import { randomBytes } from 'node:crypto';
import { SECURITY_OPTIONS, SecurityOptions } from '../apps/api/src/security/security.options';
import { API, MISSING_ID } from './support/api';
import { Harness, signUp, startHarness, auditRows, type TestUser } from './support/harness';

/**
 * Administration over HTTP: listing users with filters and cursor paging, changing roles and disabling accounts
 * (which ends their sessions at once), the audit log with filters and paging — and what admins still cannot do.
 */

type User = TestUser;
interface AdminUser {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  locked: boolean;
  lockedForSeconds: number;
}
interface AuditItem {
  id: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
  createdAt: string;
}

describe('admin: users and the audit log, end to end (real MySQL, Redis)', () => {
  let h: Harness;
  let admin: User;
  let ipSeq = 0;
  const nextIp = () => `203.0.113.${++ipSeq % 250}`;
  /** A tag in every email this file creates, so filters can single out this file's users. */
  const tag = `adm${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    h = await startHarness('admin', { worker: false, fakeLlm: false });
    // This file signs up many accounts from one address: lift the per-address auth limit (another file's topic).
    h.app.get<symbol, SecurityOptions>(SECURITY_OPTIONS).rateLimits.auth.limit = 10_000;
    admin = await signUp(h, `${tag}boss`); // the first account of the installation is its admin
  });
  afterAll(async () => h?.close());

  const get = (path: string, auth = admin.auth) => h.http.get(`${API}${path}`).set('Authorization', auth);
  const patch = (id: string, body: Record<string, unknown>, auth = admin.auth) =>
    h.http.patch(`${API}/admin/users/${id}`).set('Authorization', auth).send(body);
  const login = (user: User) =>
    h.http
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', nextIp())
      .send({ email: user.email, password: user.password });

  async function lockOut(user: User): Promise<void> {
    for (let i = 0; i < 5; i += 1) {
      const res = await h.http
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', nextIp())
        .send({ email: user.email, password: 'not the password at all' });
      expect(res.status).toBe(401);
    }
    expect((await login(user)).status).toBe(423);
  }

  /** Every page of a listing, following nextCursor. */
  async function allPages<T>(path: string): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await get(`${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect([res.status, res.body.code]).toEqual([200, undefined]);
      items.push(...(res.body.items as T[]));
      cursor = res.body.nextCursor as string | null;
      pages += 1;
      expect(pages).toBeLessThan(100);
    } while (cursor);
    return { items, pages };
  }

  const auditOf = (action: string, targetId: string) => auditRows(h, action, targetId);

  describe('GET /admin/users', () => {
    let members: User[];

    beforeAll(async () => {
      members = [];
      for (let i = 0; i < 5; i += 1) members.push(await signUp(h, `${tag}member${i}`));
    });

    it('lists users newest first with their state, never a password hash', async () => {
      const res = await get(`/admin/users?email=${tag}`);
      expect(res.status).toBe(200);
      const items = res.body.items as AdminUser[];
      expect(items.map((u) => u.id)).toEqual(
        [...members]
          .reverse()
          .map((m) => m.userId)
          .concat(admin.userId),
      );
      expect(items[0]).toEqual({
        id: members[4]!.userId,
        email: members[4]!.email,
        displayName: `${tag}member4`,
        role: 'user',
        disabled: false,
        mfaEnabled: false,
        locked: false,
        lockedForSeconds: 0,
        createdAt: expect.any(String),
      });
      expect(JSON.stringify(res.body)).not.toMatch(/password|\$2[aby]\$/i);
      expect(res.body.nextCursor).toBeNull();
    });

    it('filters by email substring (case-insensitive, % and _ taken literally) and role', async () => {
      const one = await get(`/admin/users?email=${encodeURIComponent(`${tag.toUpperCase()}MEMBER3`)}`);
      expect((one.body.items as AdminUser[]).map((u) => u.id)).toEqual([members[3]!.userId]);
      expect((await get('/admin/users?email=%25')).body.items).toEqual([]);
      expect((await get('/admin/users?email=_')).body.items).toEqual([]);

      const admins = await get(`/admin/users?role=admin&email=${tag}`);
      expect((admins.body.items as AdminUser[]).map((u) => u.id)).toEqual([admin.userId]);
      const users = await get(`/admin/users?role=user&email=${tag}`);
      expect((users.body.items as AdminUser[]).map((u) => u.id).sort()).toEqual(members.map((m) => m.userId).sort());
    });

    it('pages with a cursor: every user exactly once, in order', async () => {
      const { items, pages } = await allPages<AdminUser>(`/admin/users?email=${tag}&limit=2`);
      expect(pages).toBe(3);
      expect(items.map((u) => u.id)).toEqual(
        [...members]
          .reverse()
          .map((m) => m.userId)
          .concat(admin.userId),
      );
    });

    it('filters by lockout state, paging through it too', async () => {
      await lockOut(members[1]!);
      await lockOut(members[3]!);
      const locked = await allPages<AdminUser>(`/admin/users?email=${tag}&locked=true&limit=1`);
      expect(locked.items.map((u) => u.id)).toEqual([members[3]!.userId, members[1]!.userId]);
      expect(locked.pages).toBe(2);
      for (const u of locked.items) {
        expect(u.locked).toBe(true);
        expect(u.lockedForSeconds).toBeGreaterThan(800);
      }
      const open = await allPages<AdminUser>(`/admin/users?email=${tag}&locked=false&limit=2`);
      expect(open.items.map((u) => u.id)).toEqual(
        [members[4]!, members[2]!, members[0]!].map((m) => m.userId).concat(admin.userId),
      );

      expect(
        (await h.http.post(`${API}/admin/users/${members[1]!.userId}/unlock`).set('Authorization', admin.auth)).status,
      ).toBe(204);
      const after = await get(`/admin/users?email=${tag}&locked=true`);
      expect((after.body.items as AdminUser[]).map((u) => u.id)).toEqual([members[3]!.userId]);
      await h.http.post(`${API}/admin/users/${members[3]!.userId}/unlock`).set('Authorization', admin.auth);
    });

    it('refuses bad filters with 400 naming the field', async () => {
      for (const [query, field] of [
        ['role=root', 'role'],
        ['locked=yes', 'locked'],
        ['locked=true&locked=false', 'locked'],
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['cursor=nonsense', 'cursor'],
        ['email=', 'email'],
        ['sort=email', 'sort'],
      ]) {
        const res = await get(`/admin/users?${query}`);
        expect([query, res.status, res.body.code]).toEqual([query, 400, 'validation_failed']);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
      }
    });

    it('is for admins only', async () => {
      const res = await get('/admin/users', members[0]!.auth);
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    });
  });

  describe('PATCH /admin/users/:id', () => {
    it('promotes and demotes; demoting ends every session of the account at once; audited', async () => {
      const bob = await signUp(h, `${tag}bob`);
      const promoted = await patch(bob.userId, { role: 'admin' });
      expect(promoted.status).toBe(200);
      expect(promoted.body).toMatchObject({ id: bob.userId, role: 'admin', disabled: false });
      expect(await auditOf('user.role_changed', bob.userId)).toEqual([
        { actorId: admin.userId, metadata: { from: 'user', to: 'admin' } },
      ]);
      // Promotion leaves sessions alone; a fresh login carries the new role.
      expect((await get('/auth/me', bob.auth)).status).toBe(200);
      const relog = await login(bob);
      const bobAdmin = `Bearer ${relog.body.accessToken}`;
      expect((await get('/admin/users', bobAdmin)).status).toBe(200);

      const demoted = await patch(bob.userId, { role: 'user' });
      expect([demoted.status, demoted.body.role]).toEqual([200, 'user']);
      for (const auth of [bob.auth, bobAdmin]) {
        const res = await get('/auth/me', auth);
        expect([res.status, res.body.code]).toEqual([401, 'unauthorized']);
      }
      expect(await auditOf('user.role_changed', bob.userId)).toEqual([
        { actorId: admin.userId, metadata: { from: 'user', to: 'admin' } },
        { actorId: admin.userId, metadata: { from: 'admin', to: 'user', revokedSessions: 2 } },
      ]);
      const sessions: { revoked_at: Date | null }[] = await h.db.query(
        'SELECT revoked_at FROM sessions WHERE user_id = ?',
        [bob.userId],
      );
      expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
      // Bob can log in again, as a user.
      const again = await login(bob);
      expect(again.status).toBe(200);
      expect((await get('/admin/users', `Bearer ${again.body.accessToken}`)).status).toBe(403);
    });

    it('disables (sessions and API tokens stop working, login refused) and enables again; audited', async () => {
      const carol = await signUp(h, `${tag}carol`);
      const token = await h.http
        .post(`${API}/tokens`)
        .set('Authorization', carol.auth)
        .send({ name: 'carol bot', scopes: ['chat:read'] });
      expect(token.status).toBe(201);
      const tokenAuth = `Bearer ${token.body.token}`;
      expect((await get('/conversations', tokenAuth)).status).toBe(200);

      const disabled = await patch(carol.userId, { disabled: true });
      expect([disabled.status, disabled.body.disabled]).toEqual([200, true]);
      expect((await get('/auth/me', carol.auth)).status).toBe(401);
      expect((await get('/conversations', tokenAuth)).status).toBe(401);
      expect((await login(carol)).status).toBe(401);
      expect(await auditOf('user.disabled', carol.userId)).toEqual([
        { actorId: admin.userId, metadata: { revokedSessions: 1 } },
      ]);
      const listed = await get(`/admin/users?email=${encodeURIComponent(carol.email)}`);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: carol.userId, disabled: true })]);

      const enabled = await patch(carol.userId, { disabled: false });
      expect([enabled.status, enabled.body.disabled]).toEqual([200, false]);
      expect(await auditOf('user.enabled', carol.userId)).toEqual([{ actorId: admin.userId, metadata: null }]);
      expect((await login(carol)).status).toBe(200);
      expect((await get('/conversations', tokenAuth)).status).toBe(200);
    });

    it('does not let an admin demote or disable themselves (409), and changes nothing', async () => {
      for (const body of [{ role: 'user' }, { disabled: true }, { role: 'user', disabled: true }]) {
        const res = await patch(admin.userId, body);
        expect([res.status, res.body.code]).toEqual([409, 'conflict']);
      }
      expect(await h.db.query('SELECT role, disabled FROM users WHERE id = ?', [admin.userId])).toEqual([
        { role: 'admin', disabled: 0 },
      ]);
      expect(await auditOf('user.role_changed', admin.userId)).toEqual([]);
      expect((await get('/admin/users', admin.auth)).status).toBe(200);
      // Saying what is already true is fine.
      expect((await patch(admin.userId, { role: 'admin', disabled: false })).status).toBe(200);
    });

    it('answers 404 for a user nobody has, and 400 for an empty or bad body', async () => {
      expect((await patch(MISSING_ID, { role: 'user' })).status).toBe(404);
      const someone = await signUp(h, `${tag}someone`);
      for (const [body, field] of [
        [{}, '(body)'],
        [{ role: 'root' }, 'role'],
        [{ disabled: 'yes' }, 'disabled'],
        [{ role: 'user', email: 'x@example.com' }, 'email'],
      ] as const) {
        const res = await patch(someone.userId, body);
        expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
          JSON.stringify(body),
          400,
          'validation_failed',
        ]);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
      }
    });

    it('is for admins only: a user cannot promote themselves', async () => {
      const eve = await signUp(h, `${tag}eve`);
      const res = await patch(eve.userId, { role: 'admin' }, eve.auth);
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
      expect(await h.db.query('SELECT role FROM users WHERE id = ?', [eve.userId])).toEqual([{ role: 'user' }]);
    });
  });

  describe('GET /admin/audit', () => {
    it('pages newest first by id, every row once, at most 100 a page', async () => {
      const { items, pages } = await allPages<AuditItem>('/admin/audit?limit=3');
      const ids = items.map((row) => BigInt(row.id));
      expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
      expect(new Set(ids).size).toBe(ids.length);
      const total = await h.db.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM audit_log');
      expect(items.length).toBeGreaterThanOrEqual(Number(total[0]!.n)); // rows written while paging land on top
      expect(pages).toBeGreaterThan(1);
      expect((await get('/admin/audit?limit=100')).status).toBe(200);
      const over = await get('/admin/audit?limit=101');
      expect([over.status, over.body.errors]).toEqual([400, [{ field: 'limit', message: expect.any(String) }]]);
    });

    it('filters by actor, action and target', async () => {
      const dave = await signUp(h, `${tag}dave`);
      const byActor = await allPages<AuditItem>(`/admin/audit?actor=${dave.userId}`);
      expect(byActor.items.map((row) => row.action)).toEqual(['auth.login', 'user.registered']);
      expect(byActor.items.every((row) => row.actorId === dave.userId)).toBe(true);

      const byAction = await allPages<AuditItem>(`/admin/audit?action=user.registered&limit=2`);
      expect(byAction.items.every((row) => row.action === 'user.registered')).toBe(true);
      expect(byAction.items.map((row) => row.targetId)).toContain(dave.userId);

      const byTarget = await allPages<AuditItem>(`/admin/audit?target=${dave.userId}&action=user.registered`);
      expect(byTarget.items).toEqual([
        expect.objectContaining({ actorId: dave.userId, action: 'user.registered', targetId: dave.userId }),
      ]);
      expect(byTarget.items[0]).toMatchObject({ ip: expect.any(String), requestId: expect.any(String) });
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const before = new Date(Date.now() - 1000).toISOString();
      const erin = await signUp(h, `${tag}erin`);
      const rows = (await allPages<AuditItem>(`/admin/audit?actor=${erin.userId}`)).items;
      const oldest = rows.at(-1)!;
      expect((await allPages<AuditItem>(`/admin/audit?actor=${erin.userId}&from=${before}`)).items).toHaveLength(2);
      const from = await allPages<AuditItem>(`/admin/audit?actor=${erin.userId}&from=${oldest.createdAt}`);
      expect(from.items.map((row) => row.id)).toContain(oldest.id);
      const to = await allPages<AuditItem>(`/admin/audit?actor=${erin.userId}&to=${oldest.createdAt}`);
      expect(to.items).toEqual([]);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await allPages<AuditItem>(`/admin/audit?from=${future}`)).items).toEqual([]);
    });

    it('refuses bad filters with 400 naming the field', async () => {
      for (const [query, field] of [
        ['actor=not-a-uuid', 'actor'],
        ['action=DROP%20TABLE', 'action'],
        ['target=' + 'x'.repeat(65), 'target'],
        ['from=yesterday', 'from'],
        ['to=2024-13-01T00:00:00Z', 'to'],
        ['cursor=nonsense', 'cursor'],
        ['limit=0', 'limit'],
        ['who=me', 'who'],
      ]) {
        const res = await get(`/admin/audit?${query}`);
        expect([query, res.status, res.body.code]).toEqual([query, 400, 'validation_failed']);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual([field]);
      }
    });

    it('is for admins only', async () => {
      const frank = await signUp(h, `${tag}frank`);
      expect((await get('/admin/audit', frank.auth)).status).toBe(403);
    });
  });

  describe('what admins cannot do', () => {
    it('read, change or delete another user’s conversation (404, as for anyone else)', async () => {
      const gina = await signUp(h, `${tag}gina`);
      const created = await h.http
        .post(`${API}/conversations`)
        .set('Authorization', gina.auth)
        .send({ title: 'private' });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const attempts = [
        await get(`/conversations/${id}`),
        await h.http.delete(`${API}/conversations/${id}`).set('Authorization', admin.auth),
        await h.http
          .post(`${API}/conversations/${id}/messages`)
          .set('Authorization', admin.auth)
          .set('Prefer', 'respond-async')
          .send({ content: 'peek' }),
      ];
      expect(attempts.map((res) => [res.status, res.body.code])).toEqual(Array(3).fill([404, 'not_found']));
      const list = await get('/conversations');
      expect((list.body.items as { id: string }[]).map((c) => c.id)).not.toContain(id);
      expect((await get(`/conversations/${id}`, gina.auth)).status).toBe(200);
    });
  });
});
