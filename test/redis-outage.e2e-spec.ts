import { API, PROBLEM_JSON } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { PrivateRedis } from './support/private-redis';
import { type ApiProcess, requireBuild, spawnApi, stopProcess } from './support/processes';
import { openSse, type SseEvent } from './support/sse';
import { TcpProxy } from './support/tcp-proxy';
import { storedMessages } from './support/turns';

/*
 * Redis going away, for real, without touching the Redis the other tests share: the API and the worker use a
 * redis-server of this file's own, reached through a TCP proxy. `proxy.cut()` makes Redis unreachable with its keys
 * kept (a network outage); `redis.restartEmpty()` kills it and starts it again with nothing (a restart without
 * persistence); FLUSHALL loses the keys with the connections kept.
 */
describe('Redis outage: no turn fails, answers reach their clients, revocations hold, rate limits fail open', () => {
  let redis: PrivateRedis;
  let proxy: TcpProxy;
  let h: Harness;
  let other: ApiProcess | undefined;

  beforeAll(async () => {
    requireBuild();
    redis = await PrivateRedis.start();
    proxy = await new TcpProxy('127.0.0.1', redis.port).start();
    h = await startHarness('redisoutage', {
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}/0`, RATE_LIMIT_CHAT_MAX: '3' },
    });
    other = await spawnApi(h); // a second instance, its own process and Redis connection
  });
  afterEach(async () => {
    await redis.up();
    await proxy.restore();
    for (const api of [h.baseUrl, ...(other ? [other.baseUrl] : [])]) await redisBackFor(api);
  });
  afterAll(async () => {
    if (other) await stopProcess(other.child, 'SIGTERM');
    await redis?.up();
    await proxy?.restore();
    await h?.close();
    await proxy?.close();
    await redis?.close();
  });

  const newConversation = async (user: TestUser) =>
    (await h.http.post(`${API}/conversations`).set('Authorization', user.auth).send({ title: 'outage' })).body
      .id as string;
  const send = (user: TestUser, conversationId: string, content: string, prefer?: string) => {
    const req = h.http.post(`${API}/conversations/${conversationId}/messages`).set('Authorization', user.auth);
    return (prefer ? req.set('Prefer', prefer) : req).send({ content });
  };
  const messagesOf = (conversationId: string) => storedMessages(h, conversationId);
  const completedContent = (events: SseEvent[]) => {
    const last = events.at(-1);
    return last?.event === 'message.completed'
      ? (last.data as { assistantMessage: { content: string } }).assistantMessage.content
      : `ended with ${last?.event ?? 'nothing'}`;
  };
  /** Resolves once the API at `baseUrl` reaches Redis again (its readiness names Redis when it does not). */
  const redisBackFor = (baseUrl: string) =>
    waitFor(async () => ((await fetch(`${baseUrl}/health/ready`)).status === 200 ? true : undefined), 20_000);
  /** Logs `user` in again: a session of its own; answers its Authorization header. */
  const loginAgain = async (user: TestUser) => {
    const res = await h.http.post(`${API}/auth/login`).send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
    return `Bearer ${res.body.accessToken as string}`;
  };
  const statusOn = async (baseUrl: string, auth: string) =>
    (await fetch(`${baseUrl}${API}/conversations`, { headers: { Authorization: auth } })).status;
  const logout = (auth: string) => h.http.post(`${API}/auth/logout`).set('Authorization', auth);
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

  /** Sends `content` asynchronously and follows its events until `tokens` tokens arrived; answers the turn and stream. */
  async function startStreamingTurn(user: TestUser, conversationId: string, content: string, tokens: number) {
    const accepted = await send(user, conversationId, content, 'respond-async');
    expect(accepted.status).toBe(202);
    const turnId = accepted.body.id as string;
    let reached: () => void = () => undefined;
    const reachedTokens = new Promise<void>((resolve) => (reached = resolve));
    const stream = await openSse(
      h.baseUrl,
      `${API}/turns/${turnId}/events`,
      { Authorization: user.auth },
      {
        onEvent: (_event, s) => {
          if (s.events.filter((e) => e.event === 'token').length === tokens) reached();
        },
      },
    );
    await reachedTokens;
    return { turnId, stream };
  }

  it('finishes a turn that streams while Redis is unreachable: the open stream, resumed ones and MySQL hold the answer once', async () => {
    const ada = await signUp(h, 'ada');
    const conversationId = await newConversation(ada);
    const content = words(30);
    h.llm!.tokenDelayMs = 100;
    try {
      const { turnId, stream } = await startStreamingTurn(ada, conversationId, content, 3);
      const lastBeforeCut = stream.events.at(-1)!.id;
      await proxy.cut(); // the rest of the generation, and its end, happen while Redis is gone
      await stream.done; // the open stream is not cut off: it ends with the database's answer, Redis still gone
      expect(completedContent(stream.events)).toBe(`Echo: ${content}`);

      // A client that dropped before the outage resumes during it, and again after: the end it missed is sent.
      const resume = async () => {
        const resumed = await openSse(h.baseUrl, `${API}/turns/${turnId}/events`, {
          Authorization: ada.auth,
          'Last-Event-ID': lastBeforeCut,
        });
        await resumed.done;
        return [resumed.status, completedContent(resumed.events)];
      };
      expect(await resume()).toEqual([200, `Echo: ${content}`]);
      await proxy.restore();
      await redisBackFor(h.baseUrl);
      expect(await resume()).toEqual([200, `Echo: ${content}`]);
      expect(await messagesOf(conversationId)).toEqual([`user: ${content}`, `assistant: Echo: ${content}`]);
    } finally {
      h.llm!.tokenDelayMs = 0;
    }
  });

  it('answers a client resuming after Redis restarted empty mid-turn (its stream gone) from the database', async () => {
    const bea = await signUp(h, 'bea');
    const conversationId = await newConversation(bea);
    const content = words(20);
    h.llm!.tokenDelayMs = 100;
    try {
      const { turnId, stream } = await startStreamingTurn(bea, conversationId, content, 3);
      const lastSeen = stream.events.at(-1)!.id;
      stream.close();
      await redis.restartEmpty(); // the stream with the first tokens is gone
      await waitFor(async () => {
        const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', bea.auth);
        return res.body.status === 'completed' ? true : undefined;
      }, 30_000);
      const resumed = await openSse(h.baseUrl, `${API}/turns/${turnId}/events`, {
        Authorization: bea.auth,
        'Last-Event-ID': lastSeen,
      });
      await resumed.done;
      expect(resumed.status).toBe(200);
      expect(completedContent(resumed.events)).toBe(`Echo: ${content}`);
      expect(resumed.events.filter((e) => e.event === 'message.completed')).toHaveLength(1);
      expect(await messagesOf(conversationId)).toEqual([`user: ${content}`, `assistant: Echo: ${content}`]);
    } finally {
      h.llm!.tokenDelayMs = 0;
    }
  });

  it('while Redis is down: sends are answered (the chat limit lets them through), logins are 503; once back the limit counts again', async () => {
    const cai = await signUp(h, 'cai');
    const conversationId = await newConversation(cai);
    await proxy.cut();
    for (const n of [1, 2, 3, 4]) {
      const res = await send(cai, conversationId, `during the outage ${n}`);
      expect([res.status, res.body.assistantMessage?.content]).toEqual([200, `Echo: during the outage ${n}`]);
    }
    // Lockout counts failed logins in Redis: without it a login is refused, not let through uncounted.
    const login = await h.http.post(`${API}/auth/login`).send({ email: cai.email, password: cai.password });
    expect(login.headers['content-type']).toMatch(PROBLEM_JSON);
    expect([login.status, login.body.code, login.headers['retry-after']]).toEqual([503, 'service_unavailable', '5']);

    await proxy.restore();
    await redisBackFor(h.baseUrl);
    const statuses: number[] = [];
    for (const n of [5, 6, 7, 8]) statuses.push((await send(cai, conversationId, `after the outage ${n}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]); // RATE_LIMIT_CHAT_MAX=3 from here on
    expect((await h.http.post(`${API}/auth/login`).send({ email: cai.email, password: cai.password })).status).toBe(
      200,
    );
    const stored = await messagesOf(conversationId);
    expect(stored.filter((m) => m.startsWith('assistant: '))).toHaveLength(7);
    expect(stored.at(-1)).toBe('assistant: Echo: after the outage 7');
  });

  describe('revocations outlive Redis losing its keys, on every API instance', () => {
    let dee: TestUser;
    const login = () => loginAgain(dee);

    beforeAll(async () => {
      dee = await signUp(h, 'dee');
    });

    it('a session logged out stays refused after FLUSHALL and after Redis restarts empty', async () => {
      const [ended, live] = [await login(), await login()];
      expect((await logout(ended)).status).toBe(204);
      const bases = [h.baseUrl, other!.baseUrl];
      for (const base of bases) expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);

      await redis.command((r) => r.flushall());
      for (const base of bases) expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);

      await redis.restartEmpty();
      for (const base of bases) {
        await redisBackFor(base);
        expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);
      }
    });

    it('a logout while Redis is unreachable succeeds, is refused everywhere at once, and still after Redis is back', async () => {
      const [ended, live] = [await login(), await login()];
      expect(await statusOn(other!.baseUrl, ended)).toBe(200);
      await proxy.cut();
      expect((await logout(ended)).status).toBe(204);
      for (const base of [h.baseUrl, other!.baseUrl])
        expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);

      await proxy.restore();
      for (const base of [h.baseUrl, other!.baseUrl]) {
        await redisBackFor(base);
        expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);
      }
      // Redis holds the revocation made during the outage again (copied from MySQL), not only MySQL.
      const copied = await waitFor(async () => {
        const keys = await redis.command((r) => r.keys(`${h.config.redis.keyPrefix}revoked-session:*`));
        return keys.length >= 2 ? keys : undefined;
      }, 10_000);
      expect(copied.length).toBe(2); // this test's session and the previous test's, both within the access-token life
    });
  });

  // The longest test here (60–75 s of the file's ~2 min): run by default, as it stays under 90 s.
  it('stays down for 60 s: every turn answered and stored once, revocations held on both instances, then back empty', async () => {
    const eve = await signUp(h, 'eve');
    const [ended, live] = [await loginAgain(eve), await loginAgain(eve)];
    const [streamedIn, sentIn] = [await newConversation(eve), await newConversation(eve)];
    const streamed = words(30);
    h.llm!.tokenDelayMs = 100;
    const bases = [h.baseUrl, other!.baseUrl];
    const sent: string[] = [];
    const { turnId, stream } = await startStreamingTurn(eve, streamedIn, streamed, 3);
    const lastBeforeOutage = stream.events.at(-1)!.id;
    const outageEnds = Date.now() + 60_000;
    await redis.kill(); // refused, and every key gone when it comes back
    try {
      expect((await logout(ended)).status).toBe(204);
      while (Date.now() < outageEnds) {
        const content = `while Redis is down ${sent.length}`;
        const res = await send(eve, sentIn, content);
        expect([res.status, res.body.assistantMessage?.content]).toEqual([200, `Echo: ${content}`]);
        sent.push(content);
        for (const base of bases) expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);
        const login = await h.http.post(`${API}/auth/login`).send({ email: eve.email, password: eve.password });
        expect(login.status).toBe(503);
        // Pacing, not an assertion: a few sends spread over the outage.
        await new Promise((resolve) => setTimeout(resolve, Math.min(8_000, Math.max(0, outageEnds - Date.now()))));
      }
      await stream.done; // ended during the outage, its end from the database
      expect(completedContent(stream.events)).toBe(`Echo: ${streamed}`);
    } finally {
      h.llm!.tokenDelayMs = 0;
      await redis.up();
    }
    for (const base of bases) {
      await redisBackFor(base);
      expect([await statusOn(base, ended), await statusOn(base, live)]).toEqual([401, 200]);
    }
    const resumed = await openSse(h.baseUrl, `${API}/turns/${turnId}/events`, {
      Authorization: eve.auth,
      'Last-Event-ID': lastBeforeOutage,
    });
    await resumed.done;
    expect(completedContent(resumed.events)).toBe(`Echo: ${streamed}`);
    expect(sent.length).toBeGreaterThanOrEqual(5);
    expect(await messagesOf(streamedIn)).toEqual([`user: ${streamed}`, `assistant: Echo: ${streamed}`]);
    expect(await messagesOf(sentIn)).toEqual(
      sent.flatMap((content) => [`user: ${content}`, `assistant: Echo: ${content}`]),
    );
  }, 120_000);
});
