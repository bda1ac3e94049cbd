/**
 * An API instance goes away in the middle of a turn's SSE stream: the client resumes on another instance with
 * Last-Event-ID and gets every remaining event exactly once (the stream lives in Redis, not in the process).
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../apps/api/src/create-app';
import { compareStreamIds } from '#libs/events/turn-event-log';
import { createLogger } from '#libs/logging/logger';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { expectStrictlyIncreasing, openSse, tokensOf } from './support/sse';

describe('an API instance stops mid-stream; the client resumes on another one', () => {
  let h: Harness;
  let a: NestExpressApplication | undefined;

  beforeAll(async () => {
    // A slow model: the turn is still generating when instance A goes away.
    h = await startHarness('stream_restart', { fakeLlm: { firstTokenDelayMs: 100, tokenDelayMs: 60 } });
  });
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await h?.close();
  });

  it('resumes on B with Last-Event-ID: all remaining events once, tokens equal to the persisted message', async () => {
    // Instance A: the same configuration (database, Redis prefix, task queue) as the harness's instance B.
    a = await createApp(h.config, createLogger({ level: h.config.logLevel, name: 'test-stream-restart-a' }));
    await a.listen(0, '127.0.0.1');
    const baseA = (await a.getUrl()).replace('[::1]', '127.0.0.1');

    const { auth } = await signUp(h, 'ada');
    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const sent = await h.http
      .post(`/api/v1/conversations/${conversation.body.id as string}/messages`)
      .set('Authorization', auth)
      .set('Prefer', 'respond-async')
      .send({ content: words });
    expect(sent.status).toBe(202);
    const turnId = sent.body.id as string;

    let closing: Promise<void> | undefined;
    const onA = await openSse(
      baseA,
      `/api/v1/turns/${turnId}/events`,
      { Authorization: auth },
      {
        onEvent: (_event, stream) => {
          const tokens = stream.events.filter((e) => e.event === 'token').length;
          if (tokens === 3 && !closing) closing = a!.close(); // A shuts down gracefully while the turn goes on
        },
      },
    );
    await onA.done;
    await closing;
    a = undefined;
    expect(onA.status).toBe(200);
    expect(onA.events.some((e) => e.event === 'message.completed')).toBe(false);
    expect(onA.events.filter((e) => e.event === 'token').length).toBeGreaterThanOrEqual(3);

    const lastSeen = onA.events.at(-1)!.id;
    const onB = await openSse(h.baseUrl, `/api/v1/turns/${turnId}/events`, {
      Authorization: auth,
      'Last-Event-ID': lastSeen,
    });
    expect(onB.status).toBe(200);
    await onB.done;
    expect(compareStreamIds(onB.events[0]!.id, lastSeen)).toBeGreaterThan(0);
    const all = [...onA.events, ...onB.events];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expectStrictlyIncreasing(all);
    expect(all.filter((e) => e.event === 'turn.started')).toHaveLength(1);
    expect(all.at(-1)!.event).toBe('message.completed');

    const turn = await waitFor(async () => {
      const res = await h.http.get(`/api/v1/turns/${turnId}`).set('Authorization', auth);
      return res.body.status === 'completed' ? (res.body as { assistantMessageId: string }) : undefined;
    });
    const rows: { content: string }[] = await h.db.query('SELECT content FROM messages WHERE id = ?', [
      turn.assistantMessageId,
    ]);
    expect(rows[0]!.content).toBe(`Echo: ${words}`);
    expect(tokensOf(all)).toBe(rows[0]!.content);
  });
});
