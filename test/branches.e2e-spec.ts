import type { Response } from 'supertest';
import type { FakeChatMessage } from './fakes/fake-llm.server';
import { API, MISSING_ID, PROBLEM_JSON } from './support/api';
import { count, Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';

/*
 * Branches: editing a user message and regenerating an assistant reply add siblings to the message tree and move
 * the conversation's current branch; the model sees only the branch the new turn extends; a client may switch
 * branch; a read share can do none of it.
 */

interface Msg {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
}

describe('branches: edit, regenerate, switch (real MySQL, Redis, Temporal; fake LLM)', () => {
  let h: Harness;
  let owner: TestUser;
  let reader: TestUser;
  let writer: TestUser;
  let stranger: TestUser;
  let replies = 0;

  beforeAll(async () => {
    h = await startHarness('branches');
    owner = await signUp(h, 'olga');
    reader = await signUp(h, 'rita');
    writer = await signUp(h, 'walt');
    stranger = await signUp(h, 'trent');
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.llm!.reset();
    // Every reply is unique, so a test can tell which earlier reply the model was shown.
    h.llm!.reply = (messages: FakeChatMessage[]) =>
      `Reply ${++replies} to: ${[...messages].reverse().find((m) => m.role === 'user')?.content ?? ''}`;
  });

  async function conversation(auth = owner.auth): Promise<string> {
    const res = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({ title: 'branches' });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function send(id: string, content: string, auth = owner.auth): Promise<{ user: Msg; assistant: Msg }> {
    const res = await h.http.post(`${API}/conversations/${id}/messages`).set('Authorization', auth).send({ content });
    expect(res.status).toBe(200);
    await settle(res.body.turnId as string);
    return { user: res.body.userMessage as Msg, assistant: res.body.assistantMessage as Msg };
  }

  async function settle(turnId: string): Promise<void> {
    await waitFor(async () => {
      const rows: unknown[] = await h.db.query(
        "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
        [turnId],
      );
      return rows.length > 0 ? true : undefined;
    });
  }

  async function branch(id: string, auth = owner.auth): Promise<{ currentMessageId: string; messages: Msg[] }> {
    const res = await h.http.get(`${API}/conversations/${id}`).set('Authorization', auth);
    expect(res.status).toBe(200);
    return res.body as { currentMessageId: string; messages: Msg[] };
  }

  async function allMessages(id: string): Promise<Msg[]> {
    const res = await h.http.get(`${API}/conversations/${id}/messages?limit=100`).set('Authorization', owner.auth);
    expect(res.status).toBe(200);
    return res.body.items as Msg[];
  }

  /** The chat messages the model received in its latest call. */
  function lastModelInput(): FakeChatMessage[] {
    const calls = h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
    return (calls.at(-1)?.body as { messages: FakeChatMessage[] }).messages;
  }

  function expectProblem(res: Response, status: number, code: string, fields?: string[]): void {
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    if (fields) expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual(fields);
  }

  async function writes(): Promise<Record<string, number | string>> {
    const tables = ['conversations', 'messages', 'turns', 'message_feedback'];
    const counts = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(h, t)] as const)));
    const rows: { Table: string; Checksum: string | number | null }[] = await h.db.query(
      `CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')}`,
    );
    return { ...counts, ...Object.fromEntries(rows.map((r) => [`sum:${r.Table}`, String(r.Checksum)])) };
  }

  it('regenerate: a sibling reply to the same user message, without the old reply in its context', async () => {
    const id = await conversation();
    const first = await send(id, 'first question');
    const second = await send(id, 'second question');
    const usersBefore = (await allMessages(id)).filter((m) => m.role === 'user').length;

    const res = await h.http.post(`${API}/messages/${second.assistant.id}/regenerate`).set('Authorization', owner.auth);
    expect(res.status).toBe(200);
    await settle(res.body.turnId as string);
    expect(res.body.turnId).not.toBe(second.user.id);
    expect(res.body.userMessage).toMatchObject({ id: second.user.id, content: 'second question' });
    expect(res.body.assistantMessage).toMatchObject({ role: 'assistant', parentId: second.user.id });
    const regenerated = res.body.assistantMessage as Msg;
    expect(regenerated.id).not.toBe(second.assistant.id);
    expect(regenerated.content).not.toBe(second.assistant.content);

    // The model saw the branch up to the user message: the first exchange, not the reply being replaced.
    expect(lastModelInput()).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: first.assistant.content },
      { role: 'user', content: 'second question' },
    ]);

    // No copy of the user message; both replies are children of it; the current branch ends in the new one.
    const all = await allMessages(id);
    expect(all.filter((m) => m.role === 'user')).toHaveLength(usersBefore);
    expect(
      all
        .filter((m) => m.parentId === second.user.id)
        .map((m) => m.id)
        .sort(),
    ).toEqual([second.assistant.id, regenerated.id].sort());
    const shown = await branch(id);
    expect(shown.currentMessageId).toBe(regenerated.id);
    expect(shown.messages.map((m) => m.id)).toEqual([
      first.user.id,
      first.assistant.id,
      second.user.id,
      regenerated.id,
    ]);
  });

  it('edit: the new text is a sibling of the edited message (a new root for the first one), answered at once', async () => {
    const id = await conversation();
    const first = await send(id, 'what is temporal');
    const second = await send(id, 'and what is a workflow');

    const edited = await h.http
      .patch(`${API}/messages/${second.user.id}`)
      .set('Authorization', owner.auth)
      .send({ content: 'and what is an activity' });
    expect(edited.status).toBe(200);
    await settle(edited.body.turnId as string);
    expect(edited.body.userMessage).toMatchObject({ role: 'user', content: 'and what is an activity' });
    expect(edited.body.userMessage.parentId).toBe(first.assistant.id);
    expect(edited.body.userMessage.id).not.toBe(second.user.id);
    expect(edited.body.assistantMessage.parentId).toBe(edited.body.userMessage.id);
    expect(lastModelInput()).toEqual([
      { role: 'user', content: 'what is temporal' },
      { role: 'assistant', content: first.assistant.content },
      { role: 'user', content: 'and what is an activity' },
    ]);
    expect((await branch(id)).messages.map((m) => m.content)).toEqual([
      'what is temporal',
      first.assistant.content,
      'and what is an activity',
      edited.body.assistantMessage.content,
    ]);

    // Editing the first message starts a new root: the model sees that message alone.
    const root = await h.http
      .patch(`${API}/messages/${first.user.id}`)
      .set('Authorization', owner.auth)
      .send({ content: 'what is cadence' });
    expect(root.status).toBe(200);
    await settle(root.body.turnId as string);
    expect(root.body.userMessage.parentId).toBeNull();
    expect(lastModelInput()).toEqual([{ role: 'user', content: 'what is cadence' }]);
    const shown = await branch(id);
    expect(shown.messages.map((m) => m.id)).toEqual([root.body.userMessage.id, root.body.assistantMessage.id]);

    // The original messages are all still there: 2 + 2 + 2 + 2.
    const all = await allMessages(id);
    expect(all).toHaveLength(8);
    expect(all.filter((m) => m.parentId === null).map((m) => m.content)).toEqual([
      'what is temporal',
      'what is cadence',
    ]);
    // The title is the one the first message gave; an edit does not rename.
    expect((await h.http.get(`${API}/conversations/${id}`).set('Authorization', owner.auth)).body.title).toBe(
      'branches',
    );
  });

  it('edit and regenerate answer like a send: Prefer: respond-async → 202, Accept: text/event-stream → SSE', async () => {
    const id = await conversation();
    const first = await send(id, 'tell me about queues');

    const queued = await h.http
      .post(`${API}/messages/${first.assistant.id}/regenerate`)
      .set('Authorization', owner.auth)
      .set('Prefer', 'respond-async')
      .send({});
    expect(queued.status).toBe(202);
    expect(queued.headers['preference-applied']).toBe('respond-async');
    expect(queued.body).toMatchObject({
      userMessageId: first.user.id,
      eventsUrl: `${API}/turns/${queued.body.id}/events`,
    });
    await settle(queued.body.id as string);
    const turn = await h.http.get(`${API}/turns/${queued.body.id}`).set('Authorization', owner.auth);
    expect(turn.body).toMatchObject({ status: 'completed', userMessageId: first.user.id });
    expect((await branch(id)).currentMessageId).toBe(turn.body.assistantMessageId);

    const streamed = await h.http
      .patch(`${API}/messages/${first.user.id}`)
      .set('Authorization', owner.auth)
      .set('Accept', 'text/event-stream')
      .send({ content: 'tell me about topics' })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => done(null, text));
      });
    expect(streamed.status).toBe(200);
    expect(streamed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(streamed.headers.location).toMatch(/^\/api\/v1\/turns\/[0-9a-f-]{36}$/);
    const events = String(streamed.body);
    expect(events).toContain('event: turn.started');
    expect(events).toContain('event: message.completed');
    expect(events).toContain('Reply');
    const edited = (await branch(id)).messages;
    expect(edited.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(edited[0]?.content).toBe('tell me about topics');
  });

  it('switching branch: PATCH currentMessageId shows that branch, and the next message continues it', async () => {
    const id = await conversation();
    const first = await send(id, 'alpha');
    const regen = await h.http
      .post(`${API}/messages/${first.assistant.id}/regenerate`)
      .set('Authorization', owner.auth);
    expect(regen.status).toBe(200);
    await settle(regen.body.turnId as string);
    expect((await branch(id)).currentMessageId).toBe(regen.body.assistantMessage.id);

    const switched = await h.http
      .patch(`${API}/conversations/${id}`)
      .set('Authorization', owner.auth)
      .send({ currentMessageId: first.assistant.id.toUpperCase() });
    expect(switched.status).toBe(200);
    expect(switched.body.currentMessageId).toBe(first.assistant.id);
    expect((await branch(id)).messages.map((m) => m.id)).toEqual([first.user.id, first.assistant.id]);

    const next = await send(id, 'beta');
    expect(next.user.parentId).toBe(first.assistant.id);
    expect(lastModelInput().map((m) => m.content)).toEqual(['alpha', first.assistant.content, 'beta']);

    // A message of another conversation, or nobody's, is not a branch of this one; nothing changes.
    const other = await conversation();
    const elsewhere = await send(other, 'gamma');
    const before = await writes();
    for (const messageId of [elsewhere.user.id, MISSING_ID]) {
      const refused = await h.http
        .patch(`${API}/conversations/${id}`)
        .set('Authorization', owner.auth)
        .send({ currentMessageId: messageId });
      expectProblem(refused, 404, 'not_found');
    }
    expect(await writes()).toEqual(before);
    expect((await branch(id)).currentMessageId).toBe(next.assistant.id);
  });

  it('refuses the wrong kind of message, an unknown one, and one in a conversation the caller cannot see', async () => {
    const id = await conversation();
    const first = await send(id, 'delta');
    const before = await writes();

    expectProblem(
      await h.http
        .patch(`${API}/messages/${first.assistant.id}`)
        .set('Authorization', owner.auth)
        .send({ content: 'x' }),
      400,
      'validation_failed',
      ['id'],
    );
    expectProblem(
      await h.http.post(`${API}/messages/${first.user.id}/regenerate`).set('Authorization', owner.auth),
      400,
      'validation_failed',
      ['id'],
    );
    expectProblem(
      await h.http.patch(`${API}/messages/${MISSING_ID}`).set('Authorization', owner.auth).send({ content: 'x' }),
      404,
      'not_found',
    );
    expectProblem(
      await h.http.patch(`${API}/messages/${first.user.id}`).set('Authorization', stranger.auth).send({ content: 'x' }),
      404,
      'not_found',
    );
    expectProblem(
      await h.http.post(`${API}/messages/${first.assistant.id}/regenerate`).set('Authorization', stranger.auth),
      404,
      'not_found',
    );
    expectProblem(
      await h.http
        .patch(`${API}/conversations/${id}`)
        .set('Authorization', stranger.auth)
        .send({ currentMessageId: first.user.id }),
      404,
      'not_found',
    );
    expect(await writes()).toEqual(before);
  });

  it('a read share may not edit, regenerate or switch branch (403, nothing written); a write share may', async () => {
    const id = await conversation();
    const first = await send(id, 'epsilon');
    for (const [who, permission] of [
      [reader, 'read'],
      [writer, 'write'],
    ] as const) {
      const shared = await h.http
        .post(`${API}/conversations/${id}/shares`)
        .set('Authorization', owner.auth)
        .send({ email: who.email, permission });
      expect(shared.status).toBe(201);
    }

    const before = await writes();
    expectProblem(
      await h.http.patch(`${API}/messages/${first.user.id}`).set('Authorization', reader.auth).send({ content: 'x' }),
      403,
      'forbidden',
    );
    expectProblem(
      await h.http.post(`${API}/messages/${first.assistant.id}/regenerate`).set('Authorization', reader.auth),
      403,
      'forbidden',
    );
    expectProblem(
      await h.http
        .patch(`${API}/conversations/${id}`)
        .set('Authorization', reader.auth)
        .send({ currentMessageId: first.user.id }),
      403,
      'forbidden',
    );
    expect(await writes()).toEqual(before);

    const regen = await h.http
      .post(`${API}/messages/${first.assistant.id}/regenerate`)
      .set('Authorization', writer.auth);
    expect(regen.status).toBe(200);
    await settle(regen.body.turnId as string);
    const turn = await h.http.get(`${API}/turns/${regen.body.turnId}`).set('Authorization', owner.auth);
    expect(turn.body.status).toBe('completed');
    const edit = await h.http
      .patch(`${API}/messages/${first.user.id}`)
      .set('Authorization', writer.auth)
      .send({ content: 'epsilon, edited by walt' });
    expect(edit.status).toBe(200);
    await settle(edit.body.turnId as string);
    expect((await branch(id, reader.auth)).messages.map((m) => m.content)).toEqual([
      'epsilon, edited by walt',
      edit.body.assistantMessage.content,
    ]);
  });

  it('an Idempotency-Key makes a retried regenerate return the same turn', async () => {
    const id = await conversation();
    const first = await send(id, 'zeta');
    const regenerate = () =>
      h.http
        .post(`${API}/messages/${first.assistant.id}/regenerate`)
        .set('Authorization', owner.auth)
        .set('Idempotency-Key', 'regen-zeta-1');
    const a = await regenerate();
    const b = await regenerate();
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.turnId).toBe(a.body.turnId);
    expect(b.body.assistantMessage.id).toBe(a.body.assistantMessage.id);
    await settle(a.body.turnId as string);
    expect((await allMessages(id)).filter((m) => m.parentId === first.user.id)).toHaveLength(2);
  });
});
