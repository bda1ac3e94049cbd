import { resolve } from 'node:path';
import { count, Harness, signUp, startHarness, waitFor } from './support/harness';
import { recordHistory } from './support/histories';

/** `RECORD_HISTORIES=1` writes the failed turn's history for the replay test. */
const FAILED_FIXTURE = resolve(__dirname, 'fixtures/histories/chat-turn.failed.v3.json');

describe('chat turn, end to end over HTTP (real MySQL, Redis, Temporal; fake LLM)', () => {
  let h: Harness;
  let auth: string;
  let userId: string;

  beforeAll(async () => {
    h = await startHarness('chatturn');
    ({ auth, userId } = await signUp(h, 'ada'));
  });
  afterAll(async () => h?.close());
  beforeEach(() => h.llm!.reset());

  async function newConversation(body: Record<string, unknown> = {}): Promise<string> {
    const res = await h.http.post('/api/v1/conversations').set('Authorization', auth).send(body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('register → login → conversation → message → answer persisted and visible', async () => {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .set('X-Request-Id', 'req-e2e-0001')
      .send({ content: 'What is a durable workflow?' });
    expect(sent.status).toBe(200);
    expect(sent.headers['x-request-id']).toBe('req-e2e-0001');
    expect(sent.body.turnId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.body.userMessage).toMatchObject({ role: 'user', content: 'What is a durable workflow?' });
    expect(sent.body.assistantMessage).toMatchObject({
      role: 'assistant',
      content: 'Echo: What is a durable workflow?',
      model: 'fake-model',
      parentId: sent.body.userMessage.id,
    });
    expect(sent.body.citations).toEqual([]);

    // The model received the conversation as chat messages, through the real SDK.
    const call = h.llm!.requests.find((r) => r.path.startsWith('/v1/chat/completions'));
    expect(call?.body).toMatchObject({
      model: 'fake-model',
      stream: true,
      messages: [{ role: 'user', content: 'What is a durable workflow?' }],
    });

    const conversation = await h.http.get(`/api/v1/conversations/${conversationId}`).set('Authorization', auth);
    expect(conversation.status).toBe(200);
    expect(conversation.body.title).toBe('What is a durable workflow?');
    expect(conversation.body.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', 'What is a durable workflow?'],
      ['assistant', 'Echo: What is a durable workflow?'],
    ]);

    const turn = await h.http.get(`/api/v1/turns/${sent.body.turnId}`).set('Authorization', auth);
    expect(turn.status).toBe(200);
    expect(turn.body).toMatchObject({
      id: sent.body.turnId,
      status: 'completed',
      assistantMessageId: sent.body.assistantMessage.id,
      workflowId: `turn:${sent.body.turnId}`,
    });
    expect(turn.body.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'context:completed',
      'retrieval:skipped', // no ready files: nothing to search
      'web_search:skipped', // not asked for
      'generation:completed',
      'persistence:completed',
    ]);

    // Operators find the run in Temporal by user and conversation; the memo says what it is.
    const runs = await waitFor(async () => {
      const found = [];
      for await (const run of h.temporal.workflow.list({
        query: `UserId = "${userId}" AND ConversationId = "${conversationId}" AND TurnKind = "chat"`,
      })) {
        found.push(run);
      }
      return found.length > 0 ? found : undefined;
    });
    expect(runs.map((run) => run.workflowId)).toEqual([`turn:${sent.body.turnId}`]);
    expect(String(runs[0]!.memo?.summary)).toContain(conversationId);
    expect(runs[0]!.memo?.requestId).toBe('req-e2e-0001');

    const audit = await waitFor(async () => {
      const rows: { action: string; request_id: string }[] = await h.db.query(
        'SELECT action, request_id FROM audit_log WHERE target_id = ?',
        [sent.body.turnId],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(audit).toEqual([{ action: 'turn.completed', request_id: 'req-e2e-0001' }]);
  });

  it('carries the history of the branch into the next turn', async () => {
    const conversationId = await newConversation({ systemPrompt: 'Answer in one line.' });
    const first = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .send({ content: 'first' });
    expect(first.status).toBe(200);
    h.llm!.reset();
    const second = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .send({ content: 'second' });
    expect(second.status).toBe(200);
    expect(second.body.userMessage.parentId).toBe(first.body.assistantMessage.id);
    const call = h.llm!.requests.find((r) => r.path.startsWith('/v1/chat/completions'));
    expect((call?.body as { messages: unknown[] }).messages).toEqual([
      { role: 'system', content: 'Answer in one line.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'Echo: first' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('maps one Idempotency-Key to one turn, and refuses the key for a different request', async () => {
    const conversationId = await newConversation();
    const send = (content: string) =>
      h.http
        .post(`/api/v1/conversations/${conversationId}/messages`)
        .set('Authorization', auth)
        .set('Idempotency-Key', 'retry-me-1')
        .send({ content });
    const [a, b] = await Promise.all([send('hello once'), send('hello once')]);
    const c = await send('hello once');
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(new Set([a.body.turnId, b.body.turnId, c.body.turnId]).size).toBe(1);
    expect(c.body.assistantMessage.id).toBe(a.body.assistantMessage.id);
    const rows: { role: string; n: string }[] = await h.db.query(
      'SELECT role, COUNT(*) AS n FROM messages WHERE conversation_id = ? GROUP BY role ORDER BY role',
      [conversationId],
    );
    expect(rows.map((r) => [r.role, Number(r.n)])).toEqual([
      ['user', 1],
      ['assistant', 1],
    ]);
    expect(h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'))).toHaveLength(1);

    const reused = await send('something else');
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('retries a flaky provider (429, 500) and answers once', async () => {
    const conversationId = await newConversation();
    h.llm!.failNext(1, 500);
    h.llm!.failNext(1, 429, undefined, { 'Retry-After': '0' });
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .send({ content: 'flaky?' });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage.content).toBe('Echo: flaky?');
    expect(h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'))).toHaveLength(3);
  });

  it('fails the turn without retrying when the provider rejects the request (4xx)', async () => {
    const conversationId = await newConversation();
    const before = await count(h, 'messages');
    h.llm!.failNext(1, 400);
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .send({ content: 'bad one' });
    expect(sent.status).toBe(502);
    expect(sent.headers['content-type']).toContain('application/problem+json');
    expect(sent.body).toMatchObject({ code: 'upstream_unavailable', reason: 'llm_bad_request' });
    expect(h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'))).toHaveLength(1);
    // The user's message is kept; no assistant message was written; the turn says why it failed.
    expect(await count(h, 'messages')).toBe(before + 1);
    const turn = await h.http.get(`/api/v1/turns/${sent.body.turnId}`).set('Authorization', auth);
    expect(turn.body).toMatchObject({ status: 'failed', error: { code: 'llm_bad_request' } });
    // Recorded at the step that failed, after the steps that had run.
    const steps = Object.fromEntries((turn.body.steps as { name: string; status: string }[]).map((s) => [s.name, s]));
    expect(steps).toMatchObject({
      context: { status: 'completed' },
      generation: { status: 'failed' },
      persistence: { status: 'pending' },
    });
    if (process.env.RECORD_HISTORIES === '1') {
      const handle = h.temporal.workflow.getHandle(`turn:${sent.body.turnId as string}`);
      await handle.result().catch(() => undefined); // the run ends failed once its audit row is written
      recordHistory(handle.workflowId, h.config.temporal.address, FAILED_FIXTURE);
    }
  });

  it('answers 202 at once with Prefer: respond-async, and the turn completes', async () => {
    const conversationId = await newConversation();
    h.llm!.firstTokenDelayMs = 300;
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .set('Prefer', 'respond-async')
      .send({ content: 'take your time' });
    expect(sent.status).toBe(202);
    expect(sent.headers['preference-applied']).toBe('respond-async');
    expect(sent.body).toMatchObject({
      turnId: sent.body.id,
      status: 'queued',
      eventsUrl: `/api/v1/turns/${sent.body.id}/events`,
    });
    const done = await waitFor(async () => {
      const turn = await h.http.get(`/api/v1/turns/${sent.body.id}`).set('Authorization', auth);
      return turn.body.status === 'completed' ? turn.body : undefined;
    });
    const message = await h.db.query('SELECT content FROM messages WHERE id = ?', [done.assistantMessageId]);
    expect(message).toEqual([{ content: 'Echo: take your time' }]);
  });

  it("does not show one user's conversations or turns to another (404, not 403)", async () => {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', auth)
      .send({ content: 'mine' });
    const other = await signUp(h, 'eve');
    for (const [method, path] of [
      ['get', `/api/v1/conversations/${conversationId}`],
      ['delete', `/api/v1/conversations/${conversationId}`],
      ['get', `/api/v1/turns/${sent.body.turnId}`],
    ] as const) {
      const res = await h.http[method](path).set('Authorization', other.auth);
      expect([path, res.status, res.body.code]).toEqual([path, 404, 'not_found']);
    }
    const posted = await h.http
      .post(`/api/v1/conversations/${conversationId}/messages`)
      .set('Authorization', other.auth)
      .send({ content: 'theirs' });
    expect(posted.status).toBe(404);
    const list = await h.http.get('/api/v1/conversations').set('Authorization', other.auth);
    expect(list.body.items).toEqual([]);
  });

  it('lists conversations newest first with a cursor, and deletes with everything in them', async () => {
    const { auth: mine } = await signUp(h, 'lister');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await h.http
        .post('/api/v1/conversations')
        .set('Authorization', mine)
        .send({ title: `c${i}` });
      ids.push(res.body.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const page1 = await h.http.get('/api/v1/conversations?limit=2').set('Authorization', mine);
    expect(page1.body.items.map((c: { title: string }) => c.title)).toEqual(['c2', 'c1']);
    const page2 = await h.http
      .get(`/api/v1/conversations?limit=2&cursor=${page1.body.nextCursor}`)
      .set('Authorization', mine);
    expect(page2.body.items.map((c: { title: string }) => c.title)).toEqual(['c0']);
    expect(page2.body.nextCursor).toBeNull();

    const del = await h.http.delete(`/api/v1/conversations/${ids[0]}`).set('Authorization', mine);
    expect(del.status).toBe(204);
    expect((await h.http.get(`/api/v1/conversations/${ids[0]}`).set('Authorization', mine)).status).toBe(404);
  });
});
