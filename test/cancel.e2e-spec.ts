import { Redis } from 'ioredis';
import { resolve } from 'node:path';
import { turnEventsKey } from '#libs/events/turn-event-log';
import { auditRows, Harness, signUp, startHarness, waitFor } from './support/harness';
import { recordHistory } from './support/histories';

/** `RECORD_HISTORIES=1` writes the cancelled turn's history for the replay test. */
const CANCELLED_FIXTURE = resolve(__dirname, 'fixtures/histories/chat-turn.cancelled.v3.json');

/**
 * POST /turns/:id/cancel: the workflow is cancelled, the generate activity hears it through its heartbeat, stops
 * the model call and keeps the partial answer marked cancelled; the stream ends with turn.cancelled.
 */
describe('cancelling a turn', () => {
  let h: Harness;
  let redis: Redis;
  let ada: Awaited<ReturnType<typeof signUp>>;
  const LONG_REPLY = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');

  beforeAll(async () => {
    h = await startHarness('cancel', { fakeLlm: { tokenDelayMs: 20, reply: () => LONG_REPLY } });
    redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  async function startTurn(auth = ada.auth): Promise<{ conversationId: string; turnId: string }> {
    const created = await h.http.post('/api/v1/conversations').set('Authorization', ada.auth).send({});
    const sent = await h.http
      .post(`/api/v1/conversations/${created.body.id}/messages`)
      .set('Authorization', auth)
      .set('Prefer', 'respond-async')
      .send({ content: 'Tell me a long story' });
    expect(sent.status).toBe(202);
    return { conversationId: created.body.id as string, turnId: sent.body.id as string };
  }

  async function eventNames(turnId: string): Promise<string[]> {
    const entries = await redis.xrange(turnEventsKey(turnId), '-', '+');
    return entries.map(([, fields]) => fields[fields.indexOf('event') + 1] ?? '');
  }

  it('stops the generation mid-stream and keeps the partial answer, marked cancelled', async () => {
    const { conversationId, turnId } = await startTurn();
    await waitFor(async () => ((await eventNames(turnId)).filter((e) => e === 'token').length >= 3 ? true : undefined));

    const cancelled = await h.http.post(`/api/v1/turns/${turnId}/cancel`).set('Authorization', ada.auth);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toEqual({ id: turnId, status: 'cancelling' });

    const turn = await waitFor(async () => {
      const res = await h.http.get(`/api/v1/turns/${turnId}`).set('Authorization', ada.auth);
      return res.body.status === 'cancelled' ? res.body : undefined;
    }, 20_000);
    expect(turn.status).toBe('cancelled');

    const view = await h.http.get(`/api/v1/conversations/${conversationId}`).set('Authorization', ada.auth);
    const answer = view.body.messages.at(-1);
    expect(answer.role).toBe('assistant');
    expect(answer.status).toBe('cancelled');
    expect(answer.content.length).toBeGreaterThan(0);
    expect(LONG_REPLY.startsWith(answer.content)).toBe(true);
    expect(answer.content.length).toBeLessThan(LONG_REPLY.length);

    const names = await eventNames(turnId);
    expect(names.at(-1)).toBe('turn.cancelled');
    expect(names).not.toContain('message.completed');
    // The model call was aborted: the fake provider saw its client go away.
    await waitFor(async () => (h.llm!.requests.some((r) => r.aborted) ? true : undefined), 10_000);
    expect(await auditRows(h, 'turn.cancelled', turnId)).toEqual([
      expect.objectContaining({ actorId: ada.userId, metadata: expect.objectContaining({ conversationId }) }),
    ]);
    // The run ends just after the turn row says cancelled (it lets the waiting update answer first).
    const status = await waitFor(async () => {
      const described = await h.temporal.workflow.getHandle(`turn:${turnId}`).describe();
      return described.status.name === 'RUNNING' ? undefined : described.status.name;
    }, 10_000);
    expect(status).toBe('CANCELLED');
    if (process.env.RECORD_HISTORIES === '1')
      recordHistory(`turn:${turnId}`, h.config.temporal.address, CANCELLED_FIXTURE);

    // Once the live stream is gone, the events route answers the same final event from the database.
    await redis.del(turnEventsKey(turnId));
    const replayed = await h.http.get(`/api/v1/turns/${turnId}/events`).set('Authorization', ada.auth).buffer(true);
    expect(replayed.status).toBe(200);
    expect(replayed.text).toContain('event: turn.cancelled');
    expect(replayed.text).toContain(`"status":"cancelled"`);

    // Cancelling again is a no-op.
    const again = await h.http.post(`/api/v1/turns/${turnId}/cancel`).set('Authorization', ada.auth);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id: turnId, status: 'cancelled' });
  });

  it('refuses to cancel a finished turn, and hides other users turns', async () => {
    h.llm!.reply = () => 'short';
    try {
      const created = await h.http.post('/api/v1/conversations').set('Authorization', ada.auth).send({});
      const sent = await h.http
        .post(`/api/v1/conversations/${created.body.id}/messages`)
        .set('Authorization', ada.auth)
        .send({ content: 'hi' });
      expect(sent.status).toBe(200);
      const late = await h.http.post(`/api/v1/turns/${sent.body.turnId}/cancel`).set('Authorization', ada.auth);
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'conflict', status: 409 });

      const eve = await signUp(h, 'eve');
      const foreign = await h.http.post(`/api/v1/turns/${sent.body.turnId}/cancel`).set('Authorization', eve.auth);
      expect(foreign.status).toBe(404);
      const turn = await h.http.get(`/api/v1/turns/${sent.body.turnId}`).set('Authorization', ada.auth);
      expect(turn.body.status).toBe('completed');
    } finally {
      h.llm!.reset();
    }
  });

  it('a synchronous request waiting for a turn that gets cancelled answers with the partial message', async () => {
    const created = await h.http.post('/api/v1/conversations').set('Authorization', ada.auth).send({});
    const waiting = h.http
      .post(`/api/v1/conversations/${created.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'Tell me a long story' })
      .then((res) => res);
    const turnId = await waitFor(async () => {
      const rows: { id: string }[] = await h.db.query('SELECT id FROM turns WHERE conversation_id = ?', [
        created.body.id,
      ]);
      return rows[0]?.id;
    });
    await waitFor(async () => ((await eventNames(turnId)).includes('token') ? true : undefined));
    expect((await h.http.post(`/api/v1/turns/${turnId}/cancel`).set('Authorization', ada.auth)).status).toBe(202);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.assistantMessage.status).toBe('cancelled');
    expect(LONG_REPLY.startsWith(res.body.assistantMessage.content)).toBe(true);
  });
});
