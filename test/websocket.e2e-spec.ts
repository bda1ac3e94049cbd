/**
 * Live turn events over the WebSocket at /ws: the auth handshake, send → events, resuming with lastEventId, access
 * rules (another user's turn, a read-only sharee) and malformed frames, against the real stack with the fake LLM.
 */
import { WebSocket } from 'ws';
import { RealtimeGateway } from '../apps/api/src/realtime/realtime.gateway';
import { compareStreamIds } from '#libs/events/turn-event-log';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { expectStrictlyIncreasing, tokensOf } from './support/sse';

const API = '/api/v1';
const LONG = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');

interface Frame {
  type: string;
  [key: string]: unknown;
}

interface EventFrame {
  type: 'event';
  turnId: string;
  id: string;
  event: string;
  data: unknown;
}

/** A test client: every frame received, in order, and a way to wait for the next one that matches. */
class Client {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      for (const waiter of this.waiters.filter((w) => w.match(frame))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
  }

  static open(baseUrl: string, headers: Record<string, string> = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers });
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next(match: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame; got ${JSON.stringify(this.frames)}`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  /** Every event frame of a turn so far. */
  events(turnId: string): EventFrame[] {
    return this.frames.filter((f): f is EventFrame & Frame => f.type === 'event' && f.turnId === turnId);
  }

  /** Waits for the turn's final event; returns all its events. */
  async finished(turnId: string): Promise<EventFrame[]> {
    await this.next((f) => f.type === 'event' && f.turnId === turnId && isTerminal(f.event as string), 30_000);
    return this.events(turnId);
  }

  async ready(token: string): Promise<void> {
    this.send({ type: 'auth', token });
    await this.next((f) => f.type === 'ready' || f.type === 'error');
    const last = this.frames.at(-1)!;
    if (last.type !== 'ready') throw new Error(`auth refused: ${JSON.stringify(last)}`);
  }

  close(): void {
    this.ws.close();
  }
}

const isTerminal = (event: string): boolean => ['message.completed', 'turn.failed', 'turn.cancelled'].includes(event);
const bearer = (auth: string): string => auth.replace(/^Bearer /, '');

describe('live turn events over WebSocket (/ws)', () => {
  let h: Harness;
  let ada: Awaited<ReturnType<typeof signUp>>;
  const clients: Client[] = [];
  const open = async (headers: Record<string, string> = {}): Promise<Client> => {
    const client = await Client.open(h.baseUrl, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    h = await startHarness('websocket', { env: { API_CORS_ORIGINS: 'https://app.example' } });
    ada = await signUp(h, 'ada');
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    h.llm!.reset();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newConversation(auth = ada.auth): Promise<string> {
    const res = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function persisted(turnId: string): Promise<string> {
    const turn = await waitFor(async () => {
      const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', ada.auth);
      return res.body.status === 'completed' ? (res.body as { assistantMessageId: string }) : undefined;
    });
    const rows: { content: string }[] = await h.db.query('SELECT content FROM messages WHERE id = ?', [
      turn.assistantMessageId,
    ]);
    return rows[0]!.content;
  }

  it('needs an auth message first: a bad token, another message or garbage close the socket with 4401', async () => {
    const bad = await open();
    bad.send({ type: 'auth', token: 'v4.local.not-a-real-token-at-all' });
    expect(await bad.closed).toMatchObject({ code: 4401 });
    expect(bad.frames).toEqual([{ type: 'error', code: 'unauthorized', detail: expect.any(String) }]);

    const eager = await open();
    eager.send({ type: 'subscribe', turnId: '00000000-0000-4000-8000-000000000000' });
    expect(await eager.closed).toMatchObject({ code: 4401 });

    const garbage = await open();
    garbage.send('not json');
    expect(await garbage.closed).toMatchObject({ code: 4401 });

    // The token is never taken from the URL or a header: only the auth message counts.
    const viaHeader = await open({ Authorization: ada.auth });
    viaHeader.send({ type: 'ping' });
    expect(await viaHeader.closed).toMatchObject({ code: 4401 });
  });

  it('closes a socket that does not authenticate within 10 s (4401)', async () => {
    const idle = await open();
    const opened = Date.now();
    const closed = await idle.closed;
    expect(closed.code).toBe(4401);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(9_500);
    expect(idle.frames).toEqual([{ type: 'error', code: 'unauthorized', detail: expect.any(String) }]);
  }, 20_000);

  it('send → turn → events whose tokens concatenate to the persisted message', async () => {
    h.llm!.tokenDelayMs = 10;
    const conversationId = await newConversation();
    const client = await open();
    await client.ready(bearer(ada.auth));
    client.send({ type: 'send', ref: 'q1', conversationId, content: LONG });
    const turn = await client.next((f) => f.type === 'turn');
    expect(turn).toEqual({ type: 'turn', ref: 'q1', turnId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const turnId = turn.turnId as string;
    const events = await client.finished(turnId);

    expect(events[0]).toMatchObject({ event: 'turn.started', data: { turnId, conversationId } });
    expect(events.at(-1)!.event).toBe('message.completed');
    expectStrictlyIncreasing(events);
    const content = await persisted(turnId);
    expect(content).toBe(`Echo: ${LONG}`);
    expect(tokensOf(events)).toBe(content);
    expect((events.at(-1)!.data as { assistantMessage: { content: string } }).assistantMessage.content).toBe(content);

    // The same turn over SSE carries the same ids, names and data.
    const sse = await h.http.get(`${API}/turns/${turnId}/events`).set('Authorization', ada.auth);
    const ids = [...sse.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(events.map((e) => e.id));
  });

  it('resumes a subscription after lastEventId: every later event exactly once', async () => {
    h.llm!.tokenDelayMs = 30;
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content: LONG });
    expect(sent.status).toBe(202);
    const turnId = sent.body.id as string;

    const first = await open();
    await first.ready(bearer(ada.auth));
    first.send({ type: 'subscribe', turnId });
    await first.next(() => first.events(turnId).filter((e) => e.event === 'token').length >= 4);
    first.close(); // closing the socket does not cancel the turn
    const seen = first.events(turnId);
    const lastEventId = seen.at(-1)!.id;

    const second = await open();
    await second.ready(bearer(ada.auth));
    second.send({ type: 'subscribe', turnId, lastEventId });
    const rest = await second.finished(turnId);
    expect(compareStreamIds(rest[0]!.id, lastEventId)).toBeGreaterThan(0);
    const all = [...seen, ...rest];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.filter((e) => e.event === 'turn.started')).toHaveLength(1);
    expect(tokensOf(all)).toBe(await persisted(turnId));

    // A subscription after the final event gets nothing more.
    second.send({ type: 'subscribe', turnId: turnId, lastEventId: all.at(-1)!.id });
    second.send({ type: 'ping', ref: 'after' });
    await second.next((f) => f.type === 'pong' && f.ref === 'after');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second.events(turnId)).toHaveLength(rest.length);
  });

  it("refuses another user's turn (not_found); a read sharee may subscribe but not send", async () => {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content: 'private' });
    const turnId = sent.body.id as string;
    const content = await persisted(turnId);

    const eve = await signUp(h, 'eve');
    const stranger = await open();
    await stranger.ready(bearer(eve.auth));
    stranger.send({ type: 'subscribe', turnId, ref: 's' });
    expect(await stranger.next((f) => f.type === 'error')).toMatchObject({ code: 'not_found', turnId, ref: 's' });
    stranger.send({ type: 'send', conversationId, content: 'let me in', ref: 'w' });
    expect(await stranger.next((f) => f.type === 'error' && f.ref === 'w')).toMatchObject({ code: 'not_found' });

    const bob = await signUp(h, 'bob');
    const granted = await h.http
      .post(`${API}/conversations/${conversationId}/shares`)
      .set('Authorization', ada.auth)
      .send({ email: bob.email, permission: 'read' });
    expect(granted.status).toBe(201);
    const reader = await open();
    await reader.ready(bearer(bob.auth));
    reader.send({ type: 'subscribe', turnId });
    const events = await reader.finished(turnId);
    expect(tokensOf(events)).toBe(content);
    reader.send({ type: 'send', conversationId, content: 'can I write?', ref: 'r' });
    expect(await reader.next((f) => f.type === 'error' && f.ref === 'r')).toMatchObject({ code: 'forbidden' });
    const turns: unknown[] = await h.db.query('SELECT id FROM turns WHERE conversation_id = ?', [conversationId]);
    expect(turns).toHaveLength(1);
  });

  it('checks API token scopes: chat:read may subscribe, send needs chat:write; no chat:read closes with 4403', async () => {
    const token = async (scopes: string[]): Promise<string> => {
      const res = await h.http.post(`${API}/tokens`).set('Authorization', ada.auth).send({ name: 'ws', scopes });
      expect(res.status).toBe(201);
      return res.body.token as string;
    };
    const readOnly = await open();
    await readOnly.ready(await token(['chat:read']));
    readOnly.send({ type: 'send', conversationId: await newConversation(), content: 'hi', ref: 'x' });
    expect(await readOnly.next((f) => f.type === 'error')).toMatchObject({ code: 'forbidden', ref: 'x' });

    const filesOnly = await open();
    filesOnly.send({ type: 'auth', token: await token(['files:read']) });
    expect(await filesOnly.closed).toMatchObject({ code: 4403 });
  });

  it('answers malformed frames with an error and keeps the connection; validation errors name the fields', async () => {
    const client = await open();
    await client.ready(bearer(ada.auth));
    client.send('{nope');
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'invalid_message' });
    client.send({ type: 'dance', ref: 'd' });
    expect(await client.next((f) => f.ref === 'd')).toMatchObject({ type: 'error', code: 'invalid_message' });
    client.send({ type: 'subscribe', turnId: 'x', lastEventId: 'nope', ref: 'v' });
    const invalid = await client.next((f) => f.ref === 'v');
    expect(invalid).toMatchObject({ type: 'error', code: 'validation_failed' });
    expect((invalid.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['lastEventId', 'turnId']);
    const conversationId = await newConversation();
    client.send({ type: 'send', conversationId, content: '   ', extra: 1, ref: 'b' });
    const body = await client.next((f) => f.ref === 'b');
    expect(body).toMatchObject({ type: 'error', code: 'validation_failed' });
    expect((body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['content', 'extra']);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.next((f) => f.type === 'error' && /JSON text/.test(f.detail as string));
    client.send({ type: 'ping', ref: 'still-here' });
    expect(await client.next((f) => f.type === 'pong')).toEqual({ type: 'pong', ref: 'still-here' });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);

    // Frames over 64 KiB close the connection (1009).
    client.send({ type: 'ping', ref: 'x'.repeat(70 * 1024) });
    expect(await client.closed).toMatchObject({ code: 1009 });
  });

  it('closes the socket on the next message after the session was revoked (logout)', async () => {
    const carol = await signUp(h, 'carol');
    const client = await open();
    await client.ready(bearer(carol.auth));
    const logout = await h.http.post(`${API}/auth/logout`).set('Authorization', carol.auth).send({});
    expect(logout.status).toBe(204);
    client.send({ type: 'ping' });
    expect(await client.closed).toMatchObject({ code: 4401 });
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });

  it('a quiet socket loses a subscription whose share was revoked, and closes once its session is, at the next heartbeat', async () => {
    const bob = await signUp(h, 'bob');
    const conversationId = await newConversation();
    const shared = await h.http
      .post(`${API}/conversations/${conversationId}/shares`)
      .set('Authorization', ada.auth)
      .send({ email: bob.email, permission: 'read' });
    expect(shared.status).toBe(201);
    h.llm!.tokenDelayMs = 100;
    const started = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content: 'a slow answer please' });
    expect(started.status).toBe(202);
    const turnId = started.body.id as string;

    const reader = await open();
    await reader.ready(bearer(bob.auth));
    reader.send({ type: 'subscribe', turnId });
    await reader.next((f) => f.type === 'event' && f.turnId === turnId);
    const revoked = await h.http
      .delete(`${API}/conversations/${conversationId}/shares/${bob.userId}`)
      .set('Authorization', ada.auth);
    expect(revoked.status).toBe(204);
    h.app.get(RealtimeGateway).beat();
    expect(await reader.next((f) => f.type === 'error' && f.turnId === turnId)).toMatchObject({ code: 'not_found' });

    expect((await h.http.post(`${API}/auth/logout`).set('Authorization', bob.auth).send({})).status).toBe(204);
    h.app.get(RealtimeGateway).beat();
    expect(await reader.closed).toMatchObject({ code: 4401 });
  });

  it('closes a socket that floods messages (1008), without queueing them', async () => {
    const flooder = await open();
    await flooder.ready(bearer(ada.auth));
    for (let i = 0; i < 100; i++) flooder.send({ type: 'ping' });
    expect(await flooder.closed).toMatchObject({ code: 1008 });
    expect(flooder.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'rate_limited' }));
    expect(flooder.frames.filter((f) => f.type === 'pong').length).toBeLessThan(100);
  });

  it('refuses upgrades on other paths and from origins outside API_CORS_ORIGINS', async () => {
    const wrongPath = new WebSocket(`${h.baseUrl.replace(/^http/, 'ws')}/api/v1/ws`);
    const status = await new Promise<number>((resolve) =>
      wrongPath.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);

    const refused = new WebSocket(`${h.baseUrl.replace(/^http/, 'ws')}/ws`, { origin: 'https://evil.example' });
    const refusedStatus = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(refusedStatus).toBe(403);
    const allowed = await open({ Origin: 'https://app.example' });
    await allowed.ready(bearer(ada.auth));
  });
});
