import { Redis } from 'ioredis';
import type { Response, Test } from 'supertest';
import { WebSocket } from 'ws';
import { objectKeyFor } from '#libs/storage/object-store';
import { API, MISSING_ID, PROBLEM_JSON } from './support/api';
import { Harness, startHarness, waitFor, type TestUser } from './support/harness';
import { servedRoutes } from './support/served-routes';

/*
 * "Another user's resource is 404 on every route, never 200, and changes nothing" (shared/API.md; docs/API-NOTES.md:
 * "well-formed ids of resources the caller may not see are 404 not_found, never 403, so existence does not leak";
 * admin routes answer 403 to non-admins whatever the id).
 *
 * The routes are not listed by hand: every route the running app's router serves with a path parameter is called
 * with ids of resources that user A owns, by strangers — user B with a session, B with an API token holding every
 * scope a user can have, and an admin (roles give no access to conversations or files). Each answer must be the
 * answer to the same request with ids that name nothing (status and code alike), 404 for B's session on every
 * non-admin route, and nothing may change: row counts and checksums of every table (audit log included), the API's
 * Redis keys, A's stored file, A's running turn.
 *
 * A new route family needs one line in OWNED (which of A's ids to try for its parameter) and, when its body has
 * required fields, one in BODIES; until then the "has a fixture" test names it.
 */

/** Redis keys any request to a rate-limited route writes: counting requests is the point. */
const RATE_LIMIT_KEYS = /:ratelimit:/;
const SLOW_REPLY = Array.from({ length: 2400 }, (_, i) => `word${i}`).join(' ');

interface World {
  /** A's conversation with a completed turn, shared read-only with Carol; and one whose turn is still running. */
  conversationId: string;
  runningConversationId: string;
  turnId: string;
  runningTurnId: string;
  userMessageId: string;
  assistantMessageId: string;
  fileId: string;
  tokenId: string;
  /** An ended replay of Dora's, another admin (replays are admin-only, each its creator's). */
  replayId: string;
  /** One of A's own MCP servers (its headers are A's credentials). */
  mcpServerId: string;
}

type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

describe("cross-user sweep: another user's ids on every id-taking route (real MySQL, Redis, Temporal)", () => {
  let h: Harness;
  let redis: Redis;
  let admin: TestUser;
  let ada: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let bobToken: string;
  let world: World;
  let addressSeq = 0;

  /** The ids of A's resources to try for a path parameter, by the path segment before it. */
  const OWNED: Record<string, (w: World) => string[]> = {
    conversations: (w) => [w.conversationId, w.runningConversationId],
    shares: () => [carol.userId, bob.userId], // someone's share of A's conversation, and the caller "leaving" one
    turns: (w) => [w.turnId, w.runningTurnId],
    messages: (w) => [w.userMessageId, w.assistantMessageId],
    files: (w) => [w.fileId],
    tokens: (w) => [w.tokenId],
    users: () => [ada.userId],
    replays: (w) => [w.replayId],
    'tool-calls': () => ['call_fake1_0'], // any call: the turn is not the caller's
    'mcp-servers': (w) => [w.mcpServerId],
  };

  /** A valid body per route, so that what answers is the access check and not the validation pipe. */
  const BODIES: Record<string, () => object> = {
    'POST /api/v1/conversations/{id}/messages': () => ({ content: 'let me in' }),
    'PATCH /api/v1/conversations/{id}': () => ({ title: 'taken over' }),
    'POST /api/v1/conversations/{id}/shares': () => ({ email: bob.email, permission: 'write' }),
    'PATCH /api/v1/messages/{id}': () => ({ content: 'rewritten' }),
    'POST /api/v1/messages/{id}/feedback': () => ({ rating: 'down', comment: 'not mine' }),
    'POST /api/v1/messages/{id}/regenerate': () => ({}),
    'PATCH /api/v1/admin/users/{id}': () => ({ role: 'admin', disabled: true }),
  };

  beforeAll(async () => {
    h = await startHarness('crossuser', { fakeLlm: { tokenDelayMs: 0 } });
    redis = new Redis(h.config.redis.url);
    admin = await signUp('root'); // the first account: an admin
    ada = await signUp('ada');
    bob = await signUp('bob');
    carol = await signUp('carol');
    world = await buildWorld();
    const token = await call('post', '/tokens', bob.auth).send({
      name: 'everything a user may',
      scopes: ['chat:read', 'chat:write', 'files:read', 'files:write'],
    });
    expect(token.status).toBe(201);
    bobToken = `Bearer ${token.body.token}`;
  });
  afterAll(async () => {
    // Stop A's slow turn first, so the worker shuts down promptly.
    if (world) await call('post', `/turns/${world.runningTurnId}/cancel`, ada.auth);
    redis?.disconnect();
    await h?.close();
  });

  const nextAddress = (): string => {
    addressSeq += 1;
    return `198.18.${(addressSeq >> 8) & 255}.${addressSeq & 255}`;
  };

  function call(method: Method, path: string, auth?: string): Test {
    const req = h.http[method](path.startsWith(API) ? path : `${API}${path}`)
      .set('X-Forwarded-For', nextAddress())
      .timeout(15_000); // a leaked event stream would otherwise hang here
    if (auth) req.set('Authorization', auth);
    return req;
  }

  async function signUp(who: string): Promise<TestUser> {
    const email = `${who}.${Math.random().toString(36).slice(2, 8)}@example.com`;
    const password = `correct horse ${who} battery staple`;
    const registered = await call('post', '/auth/register').send({ email, password, displayName: who });
    expect(registered.status).toBe(201);
    const login = await call('post', '/auth/login').send({ email, password });
    expect(login.status).toBe(200);
    return { auth: `Bearer ${login.body.accessToken}`, userId: registered.body.user.id, email, password };
  }

  /** A's resources: a finished exchange (shared with Carol, rated by A), a turn still generating, a file, a token. */
  async function buildWorld(): Promise<World> {
    const conversation = await call('post', '/conversations', ada.auth).send({ title: "Ada's" });
    const sent = await call('post', `/conversations/${conversation.body.id}/messages`, ada.auth).send({
      content: 'hello, mine only',
    });
    expect(sent.status).toBe(200);
    await settled(sent.body.turnId as string);
    const shared = await call('post', `/conversations/${conversation.body.id}/shares`, ada.auth).send({
      email: carol.email,
      permission: 'read',
    });
    expect(shared.status).toBe(201);
    const rated = await call('post', `/messages/${sent.body.assistantMessage.id}/feedback`, ada.auth).send({
      rating: 'up',
      comment: 'mine',
    });
    expect(rated.status).toBe(201);

    const file = await call('post', '/files', ada.auth).attach('file', Buffer.from('# Private\n\nAda only.\n'), {
      filename: 'private.md',
      contentType: 'text/markdown',
    });
    expect(file.status).toBe(202);
    await waitFor(async () => {
      const res = await call('get', `/files/${file.body.id}`, ada.auth);
      return res.body.status === 'ready' ? true : undefined;
    }, 60_000);

    const token = await call('post', '/tokens', ada.auth).send({ name: "Ada's", scopes: ['chat:read'] });
    expect(token.status).toBe(201);
    const mcpServer = await call('post', '/mcp-servers', ada.auth).send({
      name: 'adas_notes',
      url: 'https://mcp.example.com/mcp',
      headers: { Authorization: 'Bearer ada-only' },
    });
    expect(mcpServer.status).toBe(201);

    // Dora, another admin, replayed a conversation of hers; the replay ended before the sweep (nothing runs on).
    const dora = await signUp('dora');
    expect((await call('patch', `/admin/users/${dora.userId}`, admin.auth).send({ role: 'admin' })).status).toBe(200);
    const doraLogin = await call('post', '/auth/login').send({ email: dora.email, password: dora.password });
    const doraAuth = `Bearer ${doraLogin.body.accessToken}`;
    const doras = await call('post', '/conversations', doraAuth).send({ title: "Dora's" });
    const asked = await call('post', `/conversations/${doras.body.id}/messages`, doraAuth).send({
      content: 'replay me',
    });
    expect(asked.status).toBe(200);
    await settled(asked.body.turnId as string);
    const replay = await call('post', '/replays', doraAuth).send({
      selection: { conversationIds: [doras.body.id] },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
    });
    expect(replay.status).toBe(202);
    await waitFor(async () => {
      const res = await call('get', `/replays/${replay.body.id}`, doraAuth);
      return res.body.status === 'completed' ? true : undefined;
    }, 60_000);

    // A turn that stays in its generation for the whole sweep (a slow model), so a cancel that got through would show.
    h.llm!.tokenDelayMs = 100;
    h.llm!.reply = () => SLOW_REPLY;
    const running = await call('post', '/conversations', ada.auth).send({ title: "Ada's, running" });
    const started = await call('post', `/conversations/${running.body.id}/messages`, ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content: 'a very long story' });
    expect(started.status).toBe(202);
    await waitFor(async () => {
      const res = await call('get', `/turns/${started.body.turnId}`, ada.auth);
      const generation = (res.body.steps as { name: string; status: string }[]).find((s) => s.name === 'generation');
      return generation?.status === 'running' ? true : undefined;
    });

    return {
      conversationId: conversation.body.id as string,
      runningConversationId: running.body.id as string,
      turnId: sent.body.turnId as string,
      runningTurnId: started.body.turnId as string,
      userMessageId: sent.body.userMessage.id as string,
      assistantMessageId: sent.body.assistantMessage.id as string,
      fileId: file.body.id as string,
      mcpServerId: mcpServer.body.id as string,
      tokenId: token.body.id as string,
      replayId: replay.body.id as string,
    };
  }

  async function settled(turnId: string): Promise<void> {
    await waitFor(async () => {
      const rows: unknown[] = await h.db.query(
        "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
        [turnId],
      );
      return rows.length > 0 ? true : undefined;
    });
  }

  /** Everything a request could change: every table's row count and checksum, the API's Redis keys, A's file. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const tables = (
      await h.db.query<{ name: string }[]>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations'",
      )
    )
      .map((row) => row.name)
      .sort();
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const rows = await h.db.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
      counts[table] = Number(rows[0]!.n);
    }
    const sums = await h.db.query<{ Table: string; Checksum: string | number | null }[]>(
      `CHECKSUM TABLE ${tables
        .filter((t) => t !== 'api_tokens')
        .map((t) => `\`${t}\``)
        .join(', ')}`,
    );
    const checksums = Object.fromEntries(sums.map((row) => [row.Table.split('.').pop()!, String(row.Checksum)]));
    // An API token records when it was last used (B's own token, by this sweep): everything else of a token counts.
    const tokens = await h.db.query<{ sum: string | number }[]>(
      `SELECT COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, user_id, name, token_hash, prefix, scopes, IFNULL(expires_at, '-'),
         IFNULL(revoked_at, '-'), created_at))), 0) AS sum FROM api_tokens`,
    );
    checksums.api_tokens = String(tokens[0]!.sum);
    const redisKeys = (await redis.keys(`${h.config.redis.keyPrefix}*`))
      .filter((key) => !RATE_LIMIT_KEYS.test(key))
      .sort();
    const file = await h.store.stat(objectKeyFor(ada.userId, world.fileId));
    return { counts, checksums, redisKeys, file };
  }

  /** `METHOD /path/{param}` routes that take an id, from the router of the running app. */
  function idRoutes(): string[] {
    return servedRoutes(h).filter((route) => route.includes('{'));
  }

  /** Every way to fill the route's parameters with A's ids (the segment before each one says what it names). */
  function pathsFor(route: string): string[] | undefined {
    const path = route.split(' ')[1]!;
    let paths = [path];
    for (const match of path.matchAll(/([^/]+)\/\{(\w+)\}/g)) {
      const owned = OWNED[match[1]!];
      if (!owned) return undefined;
      const placeholder = `{${match[2]}}`;
      paths = paths.flatMap((p) => owned(world).map((id) => p.replace(placeholder, id)));
    }
    return paths;
  }

  /** The same path with every id replaced by one that names nothing. */
  const missing = (path: string): string =>
    path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, MISSING_ID);

  function request(route: string, path: string, auth: string): Test {
    const method = route.split(' ')[0]!.toLowerCase() as Method;
    const req = call(method, path, auth);
    const body = BODIES[route];
    return body ? req.send(body()) : method === 'post' || method === 'patch' ? req.send({}) : req;
  }

  const answer = (res: Response) => ({ status: res.status, code: (res.body as { code?: string }).code });

  it('finds the id-taking routes in the running app (turns, messages, files, shares, tokens, admin)', () => {
    const routes = idRoutes();
    for (const family of [
      '/replays/',
      '/turns/',
      '/messages/',
      '/files/',
      '/shares/',
      '/tokens/',
      '/admin/users/',
      '/conversations/',
    ]) {
      expect(routes.some((route) => route.includes(family))).toBe(true);
    }
  });

  it('has a fixture for every id-taking route (add its family to OWNED, its body to BODIES)', () => {
    expect(idRoutes().filter((route) => pathsFor(route) === undefined)).toEqual([]);
  });

  describe.each([
    ['B, signed in', () => bob.auth, 'session'],
    ['B, with an API token holding every user scope', () => bobToken, 'token'],
    ['an admin (roles give no access to what others own)', () => admin.auth, 'admin'],
  ] as const)('as %s', (_label, auth, caller) => {
    it('answers exactly as for ids that name nothing, never 2xx, and changes nothing', async () => {
      const mismatches: string[] = [];
      let checked = 0;
      for (const route of idRoutes()) {
        const adminRoute = route.includes(' /api/v1/admin/');
        if (caller === 'admin' && adminRoute) continue; // administering users is what admins are for
        // Replays are admin-only too (403 to non-admins), and each its creator's: another admin gets 404.
        const adminOnly = adminRoute || route.includes(' /api/v1/replays/');
        for (const path of pathsFor(route) ?? []) {
          const before = await snapshot();
          const res = await request(route, path, auth());
          const after = await snapshot();
          const reference = await request(route, missing(path), auth());
          const label = `${route} with ${path}`;
          checked += 1;
          if (res.status < 400 || res.status >= 500) {
            mismatches.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
            continue;
          }
          expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
          if (JSON.stringify(answer(res)) !== JSON.stringify(answer(reference))) {
            mismatches.push(
              `${label}: ${JSON.stringify(answer(res))}, but ${JSON.stringify(answer(reference))} for a missing id`,
            );
          }
          // B's session: 404 everywhere but the admin-only routes, which are 403 to non-admins whatever the id.
          const expected = adminOnly ? { status: 403, code: 'forbidden' } : { status: 404, code: 'not_found' };
          if (caller === 'session' && JSON.stringify(answer(res)) !== JSON.stringify(expected)) {
            mismatches.push(`${label}: ${JSON.stringify(answer(res))}, expected ${JSON.stringify(expected)}`);
          }
          if (JSON.stringify(after) !== JSON.stringify(before))
            mismatches.push(`${label}: changed ${diff(before, after)}`);
        }
      }
      expect(mismatches).toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(30);
    });
  });

  it("leaves A's world as it was: the running turn runs, the share, the feedback, the token and the file are A's", async () => {
    const turn = await call('get', `/turns/${world.runningTurnId}`, ada.auth);
    expect(turn.body.status).toBe('running');
    const conversation = await call('get', `/conversations/${world.conversationId}`, ada.auth);
    expect(conversation.body.title).toBe("Ada's");
    expect(conversation.body.messages.map((m: { id: string }) => m.id)).toEqual([
      world.userMessageId,
      world.assistantMessageId,
    ]);
    expect(conversation.body.messages[1].feedback).toMatchObject({ rating: 'up', comment: 'mine' });
    const shares = await call('get', `/conversations/${world.conversationId}/shares`, ada.auth);
    expect(shares.body.items.map((s: { userId: string; permission: string }) => [s.userId, s.permission])).toEqual([
      [carol.userId, 'read'],
    ]);
    expect((await call('get', '/tokens', ada.auth)).body.items.map((t: { id: string }) => t.id)).toEqual([
      world.tokenId,
    ]);
    const content = await call('get', `/files/${world.fileId}/content`, ada.auth);
    expect(content.status).toBe(200);
    const me = await call('get', '/auth/me', ada.auth);
    expect(me.body).toMatchObject({ role: 'user' });
  });

  it("ids of A's in a body are as unknown as missing ones: fileIds, parentMessageId, currentMessageId", async () => {
    const own = await call('post', '/conversations', bob.auth).send({ title: "Bob's" });
    const tries: [string, () => Test, () => Test][] = [
      [
        'fileIds',
        () =>
          call('post', `/conversations/${own.body.id}/messages`, bob.auth).send({
            content: 'x',
            fileIds: [world.fileId],
          }),
        () =>
          call('post', `/conversations/${own.body.id}/messages`, bob.auth).send({
            content: 'x',
            fileIds: [MISSING_ID],
          }),
      ],
      [
        'parentMessageId',
        () =>
          call('post', `/conversations/${own.body.id}/messages`, bob.auth).send({
            content: 'x',
            parentMessageId: world.assistantMessageId,
          }),
        () =>
          call('post', `/conversations/${own.body.id}/messages`, bob.auth).send({
            content: 'x',
            parentMessageId: MISSING_ID,
          }),
      ],
      [
        'currentMessageId',
        () =>
          call('patch', `/conversations/${own.body.id}`, bob.auth).send({ currentMessageId: world.assistantMessageId }),
        () => call('patch', `/conversations/${own.body.id}`, bob.auth).send({ currentMessageId: MISSING_ID }),
      ],
    ];
    for (const [field, foreign, nothing] of tries) {
      const before = await snapshot();
      const res = await foreign();
      expect([field, res.status < 500 && res.status >= 400]).toEqual([field, true]);
      expect(await snapshot()).toEqual(before);
      const reference = await nothing();
      expect([field, answer(res), res.body.errors]).toEqual([field, answer(reference), reference.body.errors]);
    }
  });

  it("over the WebSocket: subscribing to A's turn or sending to A's conversation is not_found, as for missing ids", async () => {
    const frames: Record<string, unknown>[] = [];
    const ws = new WebSocket(`${h.baseUrl.replace(/^http/, 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>));
    const reply = async (ref: string) =>
      waitFor(async () => frames.find((f) => f.ref === ref || (f.type === 'ready' && ref === 'auth')), 5000);
    try {
      const before = await snapshot();
      ws.send(JSON.stringify({ type: 'auth', token: bob.auth.slice('Bearer '.length) }));
      await reply('auth');
      const sends: [string, object][] = [
        ['s1', { type: 'subscribe', turnId: world.turnId }],
        ['s2', { type: 'subscribe', turnId: world.runningTurnId }],
        ['s3', { type: 'subscribe', turnId: MISSING_ID }],
        ['m1', { type: 'send', conversationId: world.conversationId, content: 'let me in' }],
        ['m2', { type: 'send', conversationId: MISSING_ID, content: 'let me in' }],
      ];
      for (const [ref, message] of sends) ws.send(JSON.stringify({ ...message, ref }));
      const answers = await Promise.all(sends.map(async ([ref]) => reply(ref)));
      for (const frame of answers) expect(frame).toMatchObject({ type: 'error', code: 'not_found' });
      expect(frames.filter((f) => f.type === 'event')).toEqual([]);
      expect(await snapshot()).toEqual(before);
    } finally {
      ws.close();
    }
  });

  it("an Idempotency-Key A used is B's own: B's request with it gets a new turn, never A's", async () => {
    // Asynchronous, so nobody waits for the slow model; both turns are cancelled at the end.
    const key = `shared-key-${Date.now()}`;
    const sendWithKey = (auth: string, conversationId: string) =>
      call('post', `/conversations/${conversationId}/messages`, auth)
        .set('Idempotency-Key', key)
        .set('Prefer', 'respond-async')
        .send({ content: 'same words' });
    const adas = await call('post', '/conversations', ada.auth).send({});
    const first = await sendWithKey(ada.auth, adas.body.id as string);
    expect(first.status).toBe(202);
    const bobs = await call('post', '/conversations', bob.auth).send({});
    const second = await sendWithKey(bob.auth, bobs.body.id as string);
    expect(second.status).toBe(202);
    expect(second.body.turnId).not.toBe(first.body.turnId);
    expect(second.body.conversationId).toBe(bobs.body.id);
    // With A's conversation: 404, not A's turn.
    const third = await sendWithKey(bob.auth, adas.body.id as string);
    expect([third.status, third.body.code]).toEqual([404, 'not_found']);
    expect((await call('post', `/turns/${first.body.turnId}/cancel`, ada.auth)).status).toBe(202);
    expect((await call('post', `/turns/${second.body.turnId}/cancel`, bob.auth)).status).toBe(202);
  });
});

/** Which parts of two snapshots differ, briefly. */
function diff(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const changed: string[] = [];
  for (const part of Object.keys(before)) {
    const a = before[part];
    const b = after[part];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const x = (a as Record<string, unknown>)[key];
        const y = (b as Record<string, unknown>)[key];
        if (JSON.stringify(x) !== JSON.stringify(y))
          changed.push(`${part}.${key}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
      }
    } else changed.push(`${part}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  }
  return changed.join('; ');
}
