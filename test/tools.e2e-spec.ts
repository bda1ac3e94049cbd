import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { resolve } from 'node:path';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { streamedEvents } from './support/turns';
import { recordHistory } from './support/histories';

/** `RECORD_HISTORIES=1` writes the history of the turn whose tool call waited for approval, for the replay test. */
const TOOLS_FIXTURE = resolve(__dirname, 'fixtures/histories/chat-turn.tools-approved.v3.completed.json');

const API = '/api/v1';

/**
 * Tools in a chat turn, on the real stack (API, Temporal, worker, MySQL, Redis): the fake model asks for tools with
 * `<<tool NAME ARGS>>` directives in the user's message, in the OpenAI tool-calling wire format, and answers
 * `Tools said: …` with what came back. Each call is an activity of its own; `current_time` is gated behind approval.
 */
describe('tools in a chat turn', () => {
  let h: Harness;
  let redis: Redis;
  let site: Server;
  let siteUrl: string;
  let flaky = 0;
  let ada: Awaited<ReturnType<typeof signUp>>;
  let bob: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    site = createServer((req, res) => {
      if (req.url === '/flaky' && flaky++ === 0) {
        res.writeHead(503).end('try again');
      } else if (req.url === '/hang') {
        // never answers: the tool's own timeout ends the call
      } else {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<html><body><h1>Hello from the page</h1></body></html>');
      }
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    h = await startHarness('tools', {
      env: {
        TOOLS_REQUIRE_APPROVAL: 'current_time',
        TOOL_APPROVAL_TIMEOUT_SECONDS: '6',
        TOOL_MAX_STEPS: '3',
        FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32',
        FETCH_URL_TIMEOUT_MS: '700',
      },
    });
    redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix });
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
    site?.closeAllConnections();
    await new Promise((resolve) => site?.close(resolve));
  });

  async function newConversation(auth = ada.auth): Promise<string> {
    const created = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    return created.body.id as string;
  }

  /** Sends and waits for the answer. */
  async function ask(content: string, tools: string[]) {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .send({ content, tools });
    expect(sent.status).toBe(200);
    return sent.body as { turnId: string; assistantMessage: Record<string, unknown> & { content: string } };
  }

  async function startAsync(content: string, tools: string[]): Promise<{ turnId: string; conversationId: string }> {
    const conversationId = await newConversation();
    const sent = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content, tools });
    expect(sent.status).toBe(202);
    return { turnId: sent.body.id as string, conversationId };
  }

  const events = (turnId: string) => streamedEvents(redis, turnId);

  async function finished(turnId: string): Promise<{ status: string }> {
    return waitFor(async () => {
      const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', ada.auth);
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
    }, 30_000);
  }

  async function answerOf(conversationId: string) {
    const view = await h.http.get(`${API}/conversations/${conversationId}`).set('Authorization', ada.auth);
    return view.body.messages.at(-1) as { content: string; status: string; toolCalls: Record<string, unknown>[] };
  }

  /** The activities a turn's workflow scheduled, by type. */
  async function scheduledActivities(turnId: string): Promise<string[]> {
    const history = await h.temporal.workflow.getHandle(`turn:${turnId}`).fetchHistory();
    return (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : [],
    );
  }

  async function waitForEvent(turnId: string, name: string) {
    return waitFor(async () => (await events(turnId)).find((e) => e.event === name), 20_000);
  }

  it('lists the tools with their schemas and whether they wait for approval', async () => {
    const res = await h.http.get(`${API}/tools`).set('Authorization', ada.auth);
    expect(res.status).toBe(200);
    const byName = new Map((res.body.items as { name: string }[]).map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(['calculator', 'current_time', 'fetch_url', 'search_my_files']);
    expect(byName.get('calculator')).toMatchObject({
      requiresApproval: false,
      parameters: { type: 'object', properties: { expression: expect.any(Object) } },
    });
    expect(byName.get('current_time')).toMatchObject({ requiresApproval: true });
    expect((await h.http.get(`${API}/tools`)).status).toBe(401);
  });

  it('runs parallel calls side by side, feeds the results back and stores them with the answer', async () => {
    const { turnId, assistantMessage } = await ask(
      `Work out <<tool calculator {"expression":"6*7"}>> and read <<tool fetch_url {"url":"${siteUrl}/page"}>>`,
      ['calculator', 'fetch_url'],
    );
    expect(assistantMessage.content).toMatch(/^Tools said: 6\*7 = 42 \| [\s\S]*Hello from the page/);
    const calls = assistantMessage.toolCalls as Record<string, unknown>[];
    expect(calls).toEqual([
      expect.objectContaining({ name: 'calculator', arguments: '{"expression":"6*7"}', outcome: 'completed', step: 0 }),
      expect.objectContaining({ name: 'fetch_url', outcome: 'completed', step: 0 }),
    ]);
    expect(calls[0]!.summary).toContain('42');
    // fetch_url was an activity of its own, visible in the turn's history; the pure calculator a local activity.
    expect((await scheduledActivities(turnId)).filter((name) => name === 'runTool')).toHaveLength(1);
    // The model's second call carried both results, answering the calls by id.
    const second = h.llm!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as {
      messages: { role: string; tool_call_id?: string; content: string }[];
    };
    const results = second.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => m.content.slice(0, 8))).toEqual(['6*7 = 42', expect.any(String)]);
    expect(results[1]!.content).toContain('Hello from the page');
    // Streamed as they happened.
    const names = (await events(turnId)).map((e) => e.event);
    expect(names.filter((n) => n === 'tool.call')).toHaveLength(2);
    expect(names.filter((n) => n === 'tool.result')).toHaveLength(2);
    expect(names.indexOf('tool.result')).toBeLessThan(names.indexOf('message.completed'));
  });

  it('refuses arguments that fail the schema without running the tool, and tells the model', async () => {
    const { turnId, assistantMessage } = await ask('<<tool calculator {"expr":1}>>', ['calculator']);
    expect(assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'invalid' })]);
    expect(assistantMessage.content).toMatch(/^Tools said: Error: Invalid arguments for calculator/);
    expect(await scheduledActivities(turnId)).not.toContain('runTool');
  });

  it('retries a tool that fails, and tells the model when one hangs past its timeout', async () => {
    flaky = 0;
    const retried = await ask(`<<tool fetch_url {"url":"${siteUrl}/flaky"}>>`, ['fetch_url']);
    expect(retried.assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'completed' })]);
    expect(retried.assistantMessage.content).toContain('Hello from the page');
    expect(flaky).toBe(2);

    const hung = await ask(`<<tool fetch_url {"url":"${siteUrl}/hang"}>>`, ['fetch_url']);
    expect(hung.assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(hung.assistantMessage.content).toMatch(/^Tools said: Error: .*(time|700)/i);
  }, 60_000);

  it('refuses private addresses in fetch_url (SSRF), telling the model', async () => {
    const { assistantMessage } = await ask('<<tool fetch_url {"url":"http://169.254.169.254/latest/meta-data"}>>', [
      'fetch_url',
    ]);
    expect(assistantMessage.toolCalls).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(assistantMessage.content).toMatch(/Refused/);
  });

  it('stops offering tools after the last step: the model must answer in text', async () => {
    const { assistantMessage } = await ask('<<tool@* calculator {"expression":"1+1"}>>', ['calculator']);
    expect((assistantMessage.toolCalls as unknown[]).length).toBe(3); // TOOL_MAX_STEPS
    const last = h.llm!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as {
      tool_choice: string;
    };
    expect(last.tool_choice).toBe('none');
    expect(assistantMessage.content).toContain('Tools said: 1+1 = 2');
  });

  it('waits for approval: runs the call once approved, refuses a second decision, another user, bad ids', async () => {
    const { turnId, conversationId } = await startAsync('<<tool current_time {}>>', ['current_time']);
    const required = await waitForEvent(turnId, 'tool.approval_required');
    const callId = required.data['callId'] as string;
    expect(required.data).toMatchObject({ name: 'current_time', arguments: '{}', expiresAt: expect.any(String) });
    const url = `${API}/turns/${turnId}/tool-calls/${callId}`;

    expect((await h.http.post(`${url}/approve`).set('Authorization', bob.auth)).status).toBe(404);
    const bad = await h.http.post(`${API}/turns/${turnId}/tool-calls/bad%20id!/approve`).set('Authorization', ada.auth);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);

    const approved = await h.http.post(`${url}/approve`).set('Authorization', ada.auth);
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ turnId, callId, decision: 'approved' });
    expect((await finished(turnId)).status).toBe('completed');
    const answer = await answerOf(conversationId);
    expect(answer.toolCalls).toEqual([expect.objectContaining({ name: 'current_time', outcome: 'completed' })]);
    expect(answer.content).toMatch(/^Tools said: [\s\S]*\d{4}-\d\d-\d\dT/);
    if (process.env.RECORD_HISTORIES === '1') {
      await waitFor(async () => {
        const described = await h.temporal.workflow.getHandle(`turn:${turnId}`).describe();
        return described.status.name === 'COMPLETED' ? true : undefined;
      });
      recordHistory(`turn:${turnId}`, h.config.temporal.address, TOOLS_FIXTURE);
    }

    const again = await h.http.post(`${url}/deny`).set('Authorization', ada.auth);
    expect(again.status).toBe(409);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('goes on without the call when denied, and when nobody decides in time', async () => {
    const denied = await startAsync('<<tool current_time {}>>', ['current_time']);
    const required = await waitForEvent(denied.turnId, 'tool.approval_required');
    const res = await h.http
      .post(`${API}/turns/${denied.turnId}/tool-calls/${required.data['callId'] as string}/deny`)
      .set('Authorization', ada.auth);
    expect(res.status).toBe(200);
    expect((await finished(denied.turnId)).status).toBe('completed');
    const deniedAnswer = await answerOf(denied.conversationId);
    expect(deniedAnswer.toolCalls).toEqual([expect.objectContaining({ outcome: 'denied' })]);
    expect(deniedAnswer.content).toBe('Tools said: The user denied this tool call.');
    expect(await scheduledActivities(denied.turnId)).not.toContain('runTool');

    const ignored = await startAsync('<<tool current_time {}>>', ['current_time']);
    expect((await finished(ignored.turnId)).status).toBe('completed'); // after TOOL_APPROVAL_TIMEOUT_SECONDS
    const ignoredAnswer = await answerOf(ignored.conversationId);
    expect(ignoredAnswer.toolCalls).toEqual([expect.objectContaining({ outcome: 'approval_timed_out' })]);
  }, 60_000);

  it('cancels a turn waiting for approval at once, keeping the call it made', async () => {
    const { turnId, conversationId } = await startAsync('<<tool current_time {}>>', ['current_time']);
    await waitForEvent(turnId, 'tool.approval_required');
    const cancelled = await h.http.post(`${API}/turns/${turnId}/cancel`).set('Authorization', ada.auth);
    expect(cancelled.status).toBe(202);
    expect((await finished(turnId)).status).toBe('cancelled');
    const answer = await answerOf(conversationId);
    expect(answer.status).toBe('cancelled');
    expect(answer.toolCalls).toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
  });

  it("gives messages that name no tools the conversation's tools; [] in a message means none", async () => {
    const conversationId = await newConversation();
    const patched = await h.http
      .patch(`${API}/conversations/${conversationId}`)
      .set('Authorization', ada.auth)
      .send({ tools: ['calculator'] });
    expect(patched.status).toBe(200);
    expect(patched.body.tools).toEqual(['calculator']);
    const send = (body: Record<string, unknown>) =>
      h.http.post(`${API}/conversations/${conversationId}/messages`).set('Authorization', ada.auth).send(body);
    const inherited = await send({ content: 'Work out <<tool calculator {"expression":"2*21"}>>' });
    expect(inherited.status).toBe(200);
    expect(inherited.body.assistantMessage.toolCalls).toEqual([
      expect.objectContaining({ name: 'calculator', outcome: 'completed' }),
    ]);
    expect(inherited.body.assistantMessage.content).toMatch(/^Tools said: 2\*21 = 42/);
    const offered = (
      h.llm!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as {
        tools?: { function: { name: string } }[];
      }
    ).tools;
    expect(offered?.map((tool) => tool.function.name)).toEqual(['calculator']);
    const without = await send({ content: 'Work out <<tool calculator {"expression":"1+1"}>>', tools: [] });
    expect(without.status).toBe(200);
    expect(without.body.assistantMessage.toolCalls ?? []).toEqual([]);
    expect(
      (h.llm!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as { tools?: unknown[] }).tools,
    ).toBeUndefined();
    // The conversation's tools are checked like a message's, and only its owner sets them.
    for (const tools of [['no_such_tool'], 'calculator', ['Bad-Name']]) {
      const refused = await h.http
        .patch(`${API}/conversations/${conversationId}`)
        .set('Authorization', ada.auth)
        .send({ tools });
      expect(refused.status).toBe(400);
      expect(refused.body.errors.every((e: { field: string }) => e.field === 'tools')).toBe(true);
    }
    const bobs = await h.http.patch(`${API}/conversations/${conversationId}`).set('Authorization', bob.auth).send({
      tools: [],
    });
    expect(bobs.status).toBe(404);
    const view = await h.http.get(`${API}/conversations/${conversationId}`).set('Authorization', ada.auth);
    expect(view.body.tools).toEqual(['calculator']);
  });

  it('refuses unknown or malformed tools in the send body with a problem, creating nothing', async () => {
    const conversationId = await newConversation();
    for (const tools of [['no_such_tool'], 'calculator', [42], ['Bad-Name']]) {
      const res = await h.http
        .post(`${API}/conversations/${conversationId}/messages`)
        .set('Authorization', ada.auth)
        .send({ content: 'hi', tools });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors.length).toBeGreaterThan(0);
      expect(res.body.errors.every((e: { field: string }) => e.field === 'tools')).toBe(true);
    }
    const view = await h.http.get(`${API}/conversations/${conversationId}`).set('Authorization', ada.auth);
    expect(view.body.messages).toEqual([]);
  });
});
