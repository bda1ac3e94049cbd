import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startFakeMcpHttp, type FakeMcpHttp } from './fakes/fake-mcp.server';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { streamedEvents } from './support/turns';
import { freePort } from './support/processes';

const API = '/api/v1';
const ROOT = resolve(__dirname, '..');

/**
 * Tools of MCP servers in chat turns, on the real stack: the deployment's servers (`MCP_SERVERS`: one over streamable
 * HTTP with a bearer token, one over stdio, one that is down) and a user's own server added through `/mcp-servers`
 * (its credentials sealed, its tools waiting for approval by default). The model asks for `<server>__<tool>` with the
 * fake LLM's `<<tool …>>` directives.
 */
describe('MCP tools in a chat turn', () => {
  let h: Harness;
  let redis: Redis;
  let operator: FakeMcpHttp;
  let personal: FakeMcpHttp;
  let ada: Awaited<ReturnType<typeof signUp>>;
  let bob: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    operator = await startFakeMcpHttp({ token: 'operator-secret' });
    personal = await startFakeMcpHttp({ token: 'ada-secret' });
    const servers = [
      {
        name: 'notes',
        transport: 'http',
        url: operator.url,
        headers: { Authorization: 'Bearer operator-secret' },
        requiresApproval: false,
      },
      {
        name: 'local',
        transport: 'stdio',
        command: process.execPath,
        args: [
          '-r',
          resolve(ROOT, 'test/support/register-ts.cjs'),
          resolve(ROOT, 'test/fakes/fake-mcp.server.ts'),
          '--stdio',
        ],
        requiresApproval: false,
      },
      { name: 'down', transport: 'http', url: `http://127.0.0.1:${await freePort()}/mcp`, requiresApproval: false },
    ];
    h = await startHarness('mcptools', {
      env: {
        MCP_SERVERS: JSON.stringify(servers),
        // The user's own server runs on this machine: allowed here only (a user's server is public-only otherwise).
        FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32',
      },
    });
    redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix });
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
    await operator?.close();
    await personal?.close();
  });

  async function send(content: string, tools: string[], auth = ada.auth, async = false) {
    const created = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const req = h.http.post(`${API}/conversations/${created.body.id}/messages`).set('Authorization', auth);
    if (async) req.set('Prefer', 'respond-async');
    const sent = await req.send({ content, tools });
    expect(sent.status).toBe(async ? 202 : 200);
    return { conversationId: created.body.id as string, body: sent.body };
  }

  const eventsOf = (turnId: string) => streamedEvents(redis, turnId);

  it("lists the deployment's MCP tools, namespaced, and notes the server that is down", async () => {
    const res = await h.http.get(`${API}/tools`).set('Authorization', ada.auth);
    expect(res.status).toBe(200);
    const names = (res.body.items as { name: string }[]).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['calculator', 'notes__echo', 'notes__add', 'local__echo']));
    expect(res.body.items.find((tool: { name: string }) => tool.name === 'notes__add')).toMatchObject({
      server: 'notes',
      requiresApproval: false,
      parameters: { type: 'object', properties: { a: expect.any(Object), b: expect.any(Object) } },
    });
    expect(res.body.notes.join(' ')).toMatch(/down/);
  });

  it('calls a tool over streamable HTTP with the operator credentials, and one over stdio', async () => {
    const before = operator.calls.length;
    const http = await send('<<tool notes__add {"a":2,"b":40}>>', ['notes__add']);
    expect(http.body.assistantMessage.content).toBe('Tools said: 42');
    expect(http.body.assistantMessage.toolCalls).toEqual([
      expect.objectContaining({ name: 'notes__add', outcome: 'completed' }),
    ]);
    expect(operator.calls.slice(before)).toEqual([{ tool: 'add', args: { a: 2, b: 40 } }]);
    expect(new Set(operator.authorizations)).toEqual(new Set(['Bearer operator-secret']));

    const stdio = await send('<<tool local__echo {"text":"over stdio"}>>', ['local__*']);
    expect(stdio.body.assistantMessage.content).toBe('Tools said: over stdio');
  });

  it("refuses arguments that fail the server's schema, and reports the server's own error result", async () => {
    const before = operator.calls.length;
    const invalid = await send('<<tool notes__add {"a":"two"}>>', ['notes__add']);
    expect(invalid.body.assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'invalid' })]);
    expect(invalid.body.assistantMessage.content).toMatch(/^Tools said: Error: Invalid arguments for notes__add/);
    expect(operator.calls.length).toBe(before); // never sent

    const failed = await send('<<tool notes__fail {}>>', ['notes__fail']);
    expect(failed.body.assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'failed' })]);
  });

  it('skips the tools of a server that is down, with a note, and answers with the rest', async () => {
    const { body } = await send('<<tool calculator {"expression":"1+2"}>>', ['down__*', 'calculator']);
    expect(body.assistantMessage.content).toBe('Tools said: 1+2 = 3');
    const unavailable = (await eventsOf(body.turnId as string)).find((e) => e.event === 'tool.unavailable');
    expect((unavailable?.data.notes as string[]).join(' ')).toMatch(/down/);
  });

  it("a user's own server: credentials sealed, tools theirs only, each call approved first", async () => {
    const added = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'mine', url: personal.url, headers: { Authorization: 'Bearer ada-secret' } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'mine', headerNames: ['Authorization'], requiresApproval: true });
    expect(JSON.stringify(added.body)).not.toContain('ada-secret');
    const [row] = await h.db.query<{ headers_sealed: string }[]>(
      'SELECT headers_sealed FROM mcp_servers WHERE id = ?',
      [added.body.id],
    );
    expect(row!.headers_sealed).toMatch(/^v1:/);
    expect(row!.headers_sealed).not.toContain('ada-secret');
    const listed = await h.http.get(`${API}/mcp-servers`).set('Authorization', ada.auth);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: added.body.id, headerNames: ['Authorization'] })]);
    expect((await h.http.get(`${API}/mcp-servers`).set('Authorization', bob.auth)).body.items).toEqual([]);

    // Bob cannot name Ada's server in his turns.
    const created = await h.http.post(`${API}/conversations`).set('Authorization', bob.auth).send({});
    const refused = await h.http
      .post(`${API}/conversations/${created.body.id}/messages`)
      .set('Authorization', bob.auth)
      .send({ content: 'hi', tools: ['mine__echo'] });
    expect(refused.status).toBe(400);

    const { body } = await send('<<tool mine__echo {"text":"mine"}>>', ['mine__echo'], ada.auth, true);
    const turnId = body.id as string;
    const required = await waitFor(
      async () => (await eventsOf(turnId)).find((e) => e.event === 'tool.approval_required'),
      20_000,
    );
    expect(personal.calls).toEqual([]); // not before the approval
    const approved = await h.http
      .post(`${API}/turns/${turnId}/tool-calls/${required.data['callId'] as string}/approve`)
      .set('Authorization', ada.auth);
    expect(approved.status).toBe(200);
    const done = await waitFor(
      async () => (await eventsOf(turnId)).find((e) => e.event === 'message.completed'),
      20_000,
    );
    expect((done.data['assistantMessage'] as { content: string }).content).toBe('Tools said: mine');
    expect(personal.calls).toEqual([{ tool: 'echo', args: { text: 'mine' } }]);
    expect(new Set(personal.authorizations)).toEqual(new Set(['Bearer ada-secret']));

    expect((await h.http.delete(`${API}/mcp-servers/${added.body.id}`).set('Authorization', bob.auth)).status).toBe(
      404,
    );
    expect((await h.http.delete(`${API}/mcp-servers/${added.body.id}`).set('Authorization', ada.auth)).status).toBe(
      204,
    );
    expect((await h.http.get(`${API}/mcp-servers`).set('Authorization', ada.auth)).body.items).toEqual([]);
  });

  it("refuses a user's server named like one of the deployment's, or twice", async () => {
    const taken = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'notes', url: personal.url });
    expect(taken.status).toBe(409);
    expect(taken.headers['content-type']).toMatch(/application\/problem\+json/);
    const first = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'twice', url: personal.url });
    expect(first.status).toBe(201);
    const second = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'twice', url: personal.url });
    expect(second.status).toBe(409);
  });
});
