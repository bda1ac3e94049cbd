/**
 * The API process is killed (SIGKILL) while a client waits on a synchronous send: the turn lives in Temporal and the
 * worker, not in the API, so it is answered and stored exactly once, and the client's retry with the same
 * Idempotency-Key on a new API process gets that same answer (while it is still generating, and after).
 */
import type { ChildProcess } from 'node:child_process';
import { API } from './support/api';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { requireBuild, spawnApi, stopProcess } from './support/processes';
import { openSse, tokensOf } from './support/sse';
import { TcpProxy } from './support/tcp-proxy';

/** The outcome of one synchronous send: the response, or the network error of a connection cut short. */
type SendOutcome = { status: number; body: SendAnswer } | { error: string };

interface SendAnswer {
  turnId: string;
  userMessage: { id: string; role: string; content: string };
  assistantMessage: { id: string; role: string; content: string; turnId: string };
}

async function sendSync(baseUrl: string, conversationId: string, auth: string, key: string, content: string) {
  return fetch(`${baseUrl}${API}/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ content }),
  }).then(
    async (res): Promise<SendOutcome> => ({ status: res.status, body: (await res.json()) as SendAnswer }),
    (error: unknown): SendOutcome => ({ error: String(error) }),
  );
}

describe('the API process killed during a synchronous send', () => {
  let h: Harness;
  const apis: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    // The harness's worker runs in this process and keeps going; only the API processes the client talks to die.
    // 41 tokens at 200 ms each: the answer takes about 8 s, so the kill and the retry land inside the generation.
    h = await startHarness('api_crash', { fakeLlm: { tokenDelayMs: 200 } });
  });
  afterAll(async () => {
    for (const child of apis) await stopProcess(child, 'SIGKILL');
    await h?.close();
  });

  it('kill -9 mid-generation: the turn completes once, a retry with the same key on a new API gets the answer', async () => {
    const { auth } = await signUp(h, 'crash');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const conversationId = conversation.body.id as string;
    const content = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const key = `api-crash-${conversationId}`;

    const first = await spawnApi(h);
    apis.push(first.child);
    const waiting = sendSync(first.baseUrl, conversationId, auth, key, content);

    // The turn as the first API saved it, followed on the harness's own API instance (another process's view).
    const turnId = await waitFor(async () => {
      const rows: { id: string }[] = await h.db.query('SELECT id FROM turns WHERE idempotency_key = ?', [key]);
      return rows[0]?.id;
    });
    const events = await openSse(h.baseUrl, `${API}/turns/${turnId}/events`, { Authorization: auth });
    expect(events.status).toBe(200);
    await waitFor(async () => (events.events.filter((e) => e.event === 'token').length >= 3 ? true : undefined));

    await stopProcess(first.child, 'SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    // The client lost its connection without an answer, and the answer was not finished when the API died.
    expect(await waiting).toEqual({ error: expect.any(String) });
    expect(events.events.some((e) => e.event === 'message.completed')).toBe(false);

    // The client retries on a new API process while the worker is still generating: it attaches to the same turn.
    const second = await spawnApi(h);
    apis.push(second.child);
    expect(events.events.some((e) => e.event === 'message.completed')).toBe(false);
    const retried = await sendSync(second.baseUrl, conversationId, auth, key, content);
    if (!('status' in retried)) throw new Error(`the retry failed: ${retried.error}`);
    expect(retried.status).toBe(200);
    expect(retried.body.turnId).toBe(turnId);
    expect(retried.body.userMessage).toMatchObject({ role: 'user', content });
    expect(retried.body.assistantMessage).toMatchObject({ role: 'assistant', content: `Echo: ${content}`, turnId });

    // The stream that followed the turn all along saw one uninterrupted answer, equal to the one stored.
    await events.done;
    expect(events.events.at(-1)?.event).toBe('message.completed');
    expect(tokensOf(events.events)).toBe(`Echo: ${content}`);

    // A retry after the turn ended reads the stored answer: the very same one.
    const again = await sendSync(second.baseUrl, conversationId, auth, key, content);
    expect(again).toEqual(retried);

    const messages: { id: string; role: string; content: string }[] = await h.db.query(
      'SELECT id, role, content FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
      [conversationId],
    );
    expect(messages).toEqual([
      { id: retried.body.userMessage.id, role: 'user', content },
      { id: retried.body.assistantMessage.id, role: 'assistant', content: `Echo: ${content}` },
    ]);
    const turns: { id: string; status: string }[] = await h.db.query(
      'SELECT id, status FROM turns WHERE conversation_id = ?',
      [conversationId],
    );
    expect(turns).toEqual([{ id: turnId, status: 'completed' }]);
    // The worker never noticed: one model call, never cut off, generated the one answer.
    const calls = h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
    expect(calls.map((c) => c.aborted)).toEqual([false]);
  });

  it('kill -9 after the turn is saved but before its workflow starts: the retry with the same key starts it, once', async () => {
    const { auth } = await signUp(h, 'between');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const conversationId = conversation.body.id as string;
    const content = 'saved, never started';
    const key = `api-crash-between-${conversationId}`;

    // This API reaches Temporal through a proxy the test cuts before the send: the turn is saved in MySQL, then the
    // workflow start cannot get through, and the API dies there.
    const [host, port] = h.config.temporal.address.split(':') as [string, string];
    const temporal = await new TcpProxy(host, Number(port)).start();
    try {
      const first = await spawnApi(h, { TEMPORAL_ADDRESS: `127.0.0.1:${temporal.port}` });
      apis.push(first.child);
      await temporal.cut();
      const waiting = sendSync(first.baseUrl, conversationId, auth, key, content);
      const turnId = await waitFor(async () => {
        const rows: { id: string; status: string }[] = await h.db.query(
          'SELECT id, status FROM turns WHERE idempotency_key = ?',
          [key],
        );
        return rows[0]?.id;
      });
      await stopProcess(first.child, 'SIGKILL');
      const lost = await waiting;
      expect('status' in lost && lost.status < 300).toBe(false);
      // Saved and queued, and no workflow anywhere: the kill landed between the two.
      expect(await h.db.query('SELECT status FROM turns WHERE id = ?', [turnId])).toEqual([{ status: 'queued' }]);
      await expect(h.temporal.workflow.getHandle(`turn:${turnId}`).describe()).rejects.toThrow(/not found/i);

      // The client retries on a new API (Temporal reachable): the queued turn starts, and is answered once.
      const second = await spawnApi(h);
      apis.push(second.child);
      const retried = await sendSync(second.baseUrl, conversationId, auth, key, content);
      if (!('status' in retried)) throw new Error(`the retry failed: ${retried.error}`);
      expect([retried.status, retried.body.turnId]).toEqual([200, turnId]);
      expect(retried.body.assistantMessage).toMatchObject({ content: `Echo: ${content}`, turnId });
      expect(await sendSync(second.baseUrl, conversationId, auth, key, content)).toEqual(retried);
      const messages: { role: string }[] = await h.db.query(
        'SELECT role FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
        [conversationId],
      );
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    } finally {
      await temporal.close();
    }
  });
});
