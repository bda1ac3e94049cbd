/**
 * A worker process killed without warning (SIGKILL) in a turn with tools: while the turn waits for its user's approval
 * of a call, and while a tool call runs. Each time a new worker finishes the turn with exactly one answer, the call's
 * one result stored with it, and the model shown that result once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { turnWorkflowId } from '#libs/contracts/chat-turn.contract';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { streamedEvents } from './support/turns';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';

describe('a worker killed (SIGKILL) in a turn with tools', () => {
  let h: Harness;
  let ada: TestUser;
  let redis: Redis;
  let site: Server;
  let siteUrl: string;
  /** Requests to `/slow` wait here until the test lets them answer. */
  const held: ServerResponse[] = [];
  let releaseSlow = false;
  let slowRequests = 0;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    site = createServer((req: IncomingMessage, res: ServerResponse) => {
      slowRequests++;
      if (releaseSlow) res.writeHead(200, { 'content-type': 'text/plain' }).end('the slow page');
      else held.push(res);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    // No in-process worker: the workers of this test are real processes that can be killed.
    h = await startHarness('toolcrash', {
      worker: false,
      env: { TOOLS_REQUIRE_APPROVAL: 'current_time', FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' },
    });
    redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix });
    ada = await signUp(h, 'ada');
  });
  afterEach(async () => {
    for (const child of workers.splice(0)) await stopProcess(child, 'SIGKILL');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
    site?.closeAllConnections();
    await new Promise((resolve) => site?.close(resolve));
  });

  function startWorker(): ChildProcess {
    const child = spawnWorker(h);
    workers.push(child);
    return child;
  }

  async function startTurn(content: string, tools: string[]): Promise<{ conversationId: string; turnId: string }> {
    const created = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    const sent = await h.http
      .post(`${API}/conversations/${created.body.id}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content, tools });
    expect(sent.status).toBe(202);
    return { conversationId: created.body.id as string, turnId: sent.body.id as string };
  }

  const events = (turnId: string) => streamedEvents(redis, turnId);

  async function finished(turnId: string, timeoutMs: number): Promise<string> {
    return waitFor(async () => {
      const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', ada.auth);
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? (res.body.status as string) : undefined;
    }, timeoutMs);
  }

  async function answers(conversationId: string) {
    return h.db.query<{ content: string; tool_calls: unknown }[]>(
      "SELECT content, tool_calls FROM messages WHERE conversation_id = ? AND role = 'assistant'",
      [conversationId],
    );
  }

  const toolCallsOf = (row: { tool_calls: unknown }) =>
    (typeof row.tool_calls === 'string' ? JSON.parse(row.tool_calls) : row.tool_calls) as Record<string, unknown>[];

  /** The `tool` messages the model was shown in its last call. */
  function toolMessagesSeenLast(): string[] {
    const last = h.llm!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as {
      messages: { role: string; content: string }[];
    };
    return last.messages.filter((m) => m.role === 'tool').map((m) => m.content);
  }

  async function approvalTimerStarted(turnId: string): Promise<true | undefined> {
    const history = await h.temporal.workflow.getHandle(turnWorkflowId(turnId)).fetchHistory();
    return history.events?.some((event) => event.timerStartedEventAttributes) ? true : undefined;
  }

  it('survives the kill while a call waits for approval: approved later, run once, answered once', async () => {
    const first = startWorker();
    const { conversationId, turnId } = await startTurn('<<tool current_time {}>>', ['current_time']);
    const required = await waitFor(
      async () => (await events(turnId)).find((e) => e.event === 'tool.approval_required'),
      30_000,
    );
    const callId = required.data['callId'] as string;
    // The event leaves with the model step; the kill must come once the workflow holds the call and waits (its
    // approval timer started). A kill in between loses the step, and its retry asks the model for a new call.
    await waitFor(() => approvalTimerStarted(turnId), 30_000);

    await stopProcess(first, 'SIGKILL');
    startWorker();
    const approved = await h.http
      .post(`${API}/turns/${turnId}/tool-calls/${callId}/approve`)
      .set('Authorization', ada.auth);
    expect(approved.status).toBe(200);

    expect(await finished(turnId, 60_000)).toBe('completed');
    const rows = await answers(conversationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.content).toMatch(/^Tools said: [\s\S]*ISO 8601/);
    expect(toolCallsOf(rows[0]!)).toEqual([expect.objectContaining({ id: callId, outcome: 'completed' })]);
    const results = (await events(turnId)).filter((e) => e.event === 'tool.result' && e.data['id'] === callId);
    expect(results).toHaveLength(1);
    expect(toolMessagesSeenLast()).toHaveLength(1);
  }, 90_000);

  it('survives the kill while a tool call runs: retried on the new worker, one result, one answer', async () => {
    const first = startWorker();
    const before = slowRequests;
    const { conversationId, turnId } = await startTurn(`<<tool fetch_url {"url":"${siteUrl}/slow"}>>`, ['fetch_url']);
    await waitFor(async () => (slowRequests > before ? true : undefined), 30_000);

    await stopProcess(first, 'SIGKILL');
    for (const res of held.splice(0)) res.destroy(); // the dead worker's request goes nowhere
    releaseSlow = true;
    startWorker();

    // The call is tried again once its attempt times out (the tool's 15 s, plus 10 s for a worker that died).
    expect(await finished(turnId, 80_000)).toBe('completed');
    expect(slowRequests - before).toBe(2);
    const rows = await answers(conversationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.content).toMatch(/^Tools said: URL: [^\n]*\/slow\n[\s\S]*the slow page$/);
    expect(toolCallsOf(rows[0]!)).toEqual([expect.objectContaining({ name: 'fetch_url', outcome: 'completed' })]);
    expect((await events(turnId)).filter((e) => e.event === 'tool.result')).toHaveLength(1);
    expect(toolMessagesSeenLast()).toEqual([expect.stringMatching(/the slow page$/)]);
  }, 120_000);
});
