import { Redis } from 'ioredis';
import { turnEventsKey } from '#libs/events/turn-event-log';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { expectStrictlyIncreasing, openSse, tokensOf } from './support/sse';

const LONG = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');

describe('resumable turn streams (SSE from a Redis Stream per turn)', () => {
  let h: Harness;
  let auth: string;
  let redis: Redis;

  beforeAll(async () => {
    h = await startHarness('streaming');
    ({ auth } = await signUp(h, 'ada'));
    redis = new Redis(h.env.REDIS_URL!, { keyPrefix: h.env.REDIS_KEY_PREFIX, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });
  beforeEach(() => h.llm!.reset());

  async function newConversation(): Promise<string> {
    const res = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function startTurn(content: string): Promise<string> {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .set('Prefer', 'respond-async')
      .send({ content });
    expect(sent.status).toBe(202);
    return sent.body.id as string;
  }

  async function persistedContent(turnId: string): Promise<string> {
    const turn = await waitFor(async () => {
      const res = await h.http.get(`/api/v1/turns/${turnId}`).set('Authorization', auth);
      return res.body.status === 'completed' ? (res.body as { assistantMessageId: string }) : undefined;
    });
    const rows: { content: string }[] = await h.db.query('SELECT content FROM messages WHERE id = ?', [
      turn.assistantMessageId,
    ]);
    return rows[0]!.content;
  }

  it('streams the turn: the token deltas concatenate to the persisted answer', async () => {
    h.llm!.tokenDelayMs = 30;
    const turnId = await startTurn(LONG);
    const stream = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events`, { Authorization: auth });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.done;

    const names = stream.events.map((e) => e.event);
    expect(names[0]).toBe('turn.started');
    expect(names.at(-1)).toBe('message.completed');
    expect(names).toContain('step');
    expect(names.filter((n) => n === 'token').length).toBeGreaterThan(3);
    expect(stream.events.every((e) => /^\d+-\d+$/.test(e.id))).toBe(true);
    expectStrictlyIncreasing(stream.events);

    const persisted = await persistedContent(turnId);
    expect(persisted).toBe(`Echo: ${LONG}`);
    expect(tokensOf(stream.events)).toBe(persisted);
    const completed = stream.events.at(-1)!.data as { assistantMessage: { content: string; turnId: string } };
    expect(completed.assistantMessage).toMatchObject({ content: persisted, turnId });
    // The stream is kept for late readers, then expires.
    const ttl = await redis.ttl(turnEventsKey(turnId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('resumes after a disconnect at a random token with Last-Event-ID: no event repeated or lost, the turn goes on', async () => {
    h.llm!.tokenDelayMs = 40;
    // Where the client drops is random (printed when the test fails, so a failure can be replayed).
    const cut = 1 + Math.floor(Math.random() * 10);
    const context = `disconnected after ${cut} token events`;
    const turnId = await startTurn(LONG);
    const first = await openSse(
      h.baseUrl,
      `/api/v1/turns/${turnId}/events`,
      { Authorization: auth },
      {
        onEvent: (_event, stream) => {
          if (stream.events.filter((e) => e.event === 'token').length === cut) stream.close();
        },
      },
    );
    await first.done;
    expect({ context, tokens: first.events.filter((e) => e.event === 'token').length }).toEqual({
      context,
      tokens: cut,
    });
    const lastSeen = first.events.at(-1)!.id;

    // The disconnect did not cancel the turn: it still completes.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events`, {
      Authorization: auth,
      'Last-Event-ID': lastSeen,
    });
    await second.done;
    const all = [...first.events, ...second.events];
    expect({ context, unique: new Set(all.map((e) => e.id)).size }).toEqual({ context, unique: all.length });
    expectStrictlyIncreasing(all);
    expect(all.at(-1)!.event).toBe('message.completed');
    expect(all.filter((e) => e.event === 'turn.started')).toHaveLength(1);
    const persisted = await persistedContent(turnId);
    expect(tokensOf(all)).toBe(persisted);

    // The same again with ?lastEventId=, once the turn has ended: the rest of the stream, nothing before.
    const third = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events?lastEventId=${lastSeen}`, {
      Authorization: auth,
    });
    await third.done;
    expect(third.events.map((e) => e.id)).toEqual(second.events.map((e) => e.id));

    // Resuming after the final event ends at once, with nothing repeated.
    const started = Date.now();
    const fourth = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events`, {
      Authorization: auth,
      'Last-Event-ID': all.at(-1)!.id,
    });
    await fourth.done;
    expect(fourth.events).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('streams the reply of POST /messages with Accept: text/event-stream to completion', async () => {
    h.llm!.tokenDelayMs = 5;
    const conversationId = await newConversation();
    const stream = await openSse(
      h.baseUrl,
      `/api/v1/conversations/${conversationId}/messages`,
      { Authorization: auth },
      { method: 'POST', body: { content: 'stream me please' } },
    );
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers.location).toMatch(/^\/api\/v1\/turns\/[0-9a-f-]{36}$/);
    await stream.done;
    expect(stream.events[0]).toMatchObject({ event: 'turn.started' });
    const completed = stream.events.at(-1)!;
    expect(completed.event).toBe('message.completed');
    const { assistantMessage } = completed.data as { assistantMessage: { content: string; id: string } };
    expect(assistantMessage.content).toBe('Echo: stream me please');
    expect(tokensOf(stream.events)).toBe(assistantMessage.content);
    const rows: { content: string }[] = await h.db.query('SELECT content FROM messages WHERE id = ?', [
      assistantMessage.id,
    ]);
    expect(rows).toEqual([{ content: 'Echo: stream me please' }]);
  });

  it('ends a failed turn (the model refuses: 400) with turn.failed', async () => {
    h.llm!.failNext(1, 400);
    const conversationId = await newConversation();
    const stream = await openSse(
      h.baseUrl,
      `/api/v1/conversations/${conversationId}/messages`,
      { Authorization: auth },
      { method: 'POST', body: { content: 'refuse this' } },
    );
    expect(stream.status).toBe(200);
    await stream.done;
    const last = stream.events.at(-1)!;
    expect(last.event).toBe('turn.failed');
    expect(last.data).toMatchObject({ code: 'llm_bad_request', detail: expect.any(String) });
    expect(stream.events.some((e) => e.event === 'message.completed')).toBe(false);
  });

  it('answers from the database when the stream has expired', async () => {
    const turnId = await startTurn('short');
    const persisted = await persistedContent(turnId);
    await waitFor(async () => ((await redis.ttl(turnEventsKey(turnId))) > 0 ? true : undefined));
    await redis.del(turnEventsKey(turnId));
    const stream = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events`, { Authorization: auth });
    await stream.done;
    expect(stream.events.map((e) => e.event)).toEqual(['message.completed']);
    expect((stream.events[0]!.data as { assistantMessage: { content: string } }).assistantMessage.content).toBe(
      persisted,
    );
  });

  it("does not show a turn's events to another user (404), and refuses a malformed Last-Event-ID (400)", async () => {
    const turnId = await startTurn('private');
    const other = await signUp(h, 'eve');
    const res = await h.http.get(`/api/v1/turns/${turnId}/events`).set('Authorization', other.auth);
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    const bad = await h.http
      .get(`/api/v1/turns/${turnId}/events`)
      .set('Authorization', auth)
      .set('Last-Event-ID', 'nope');
    expect([bad.status, bad.body.code]).toEqual([400, 'validation_failed']);
    await persistedContent(turnId);
  });
});
