/**
 * An API instance goes away in the middle of a turn's SSE stream: the client resumes on another instance with
 * Last-Event-ID and gets every remaining event exactly once (the stream lives in Redis, not in the process).
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { request as httpRequest } from 'node:http';
import { createApp } from '../apps/api/src/create-app';
import { createLogger } from '../libs/logging/logger';
import { Harness, signUp, startHarness, waitFor } from './support/harness';

interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

/** Reads an SSE response until the server ends it; `onEvent` sees each event as it arrives. */
function readSse(
  url: string,
  headers: Record<string, string>,
  onEvent: (event: SseEvent, events: SseEvent[]) => void = () => undefined,
): Promise<{ status: number; events: SseEvent[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          const name = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (id === undefined || name === undefined) continue;
          const event = { id, event: name, data: data === undefined ? undefined : JSON.parse(data) };
          events.push(event);
          onEvent(event, events);
        }
      });
      const done = (): void => resolve({ status: res.statusCode ?? 0, events });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', reject);
    req.end();
  });
}

const tokensOf = (events: SseEvent[]): string =>
  events
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

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
    const onA = await readSse(`${baseA}/api/v1/turns/${turnId}/events`, { Authorization: auth }, (_event, events) => {
      const tokens = events.filter((e) => e.event === 'token').length;
      if (tokens === 3 && !closing) closing = a!.close(); // A shuts down gracefully while the turn goes on
    });
    await closing;
    a = undefined;
    expect(onA.status).toBe(200);
    expect(onA.events.some((e) => e.event === 'message.completed')).toBe(false);
    expect(onA.events.filter((e) => e.event === 'token').length).toBeGreaterThanOrEqual(3);

    const lastSeen = onA.events.at(-1)!.id;
    const onB = await readSse(`${h.baseUrl}/api/v1/turns/${turnId}/events`, {
      Authorization: auth,
      'Last-Event-ID': lastSeen,
    });
    expect(onB.status).toBe(200);
    expect(compareIds(onB.events[0]!.id, lastSeen)).toBeGreaterThan(0);
    const all = [...onA.events, ...onB.events];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++) expect(compareIds(all[i - 1]!.id, all[i]!.id)).toBeLessThan(0);
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
