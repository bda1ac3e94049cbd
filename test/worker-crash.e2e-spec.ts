/**
 * A worker process killed without warning (SIGKILL) at each step of a chat turn: while it loads the context, while the
 * model streams, after the generation but before the answer is stored, and right after it is stored (before Temporal
 * heard of it). Each time a new worker finishes the turn: exactly one assistant message with the whole answer, and the
 * client following the real SSE stream shows that answer once (a retried generation announces itself with `restarted`).
 *
 * The kills land at known steps by watching real signals, not hooks in the code: a MySQL table lock the step waits on
 * (seen in MySQL's process list), the fake model's requests, the turn's event stream and workflow history, and a TCP
 * proxy in front of Temporal that the test cuts.
 */
import { Redis } from 'ioredis';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { turnEventsKey } from '#libs/events/turn-event-log';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { recordHistory } from './support/histories';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';
import { isRestart, shownText, type SseStream, tokensOf } from './support/sse';
import { lockTable, type TableLock } from './support/table-lock';
import { TcpProxy } from './support/tcp-proxy';
import { startFollowedTurn } from './support/turns';

/** `RECORD_HISTORIES=1` writes the history of the turn whose generation was retried after the kill. */
const RETRIED_FIXTURE = resolve(__dirname, 'fixtures/histories/chat-turn.generation-retried.v3.completed.json');

interface StartedTurn {
  conversationId: string;
  turnId: string;
  content: string;
  events: SseStream;
}

describe('a worker killed (SIGKILL) at each step of a chat turn', () => {
  let h: Harness;
  let ada: TestUser;
  let redis: Redis;
  const workers: ChildProcess[] = [];
  let lock: TableLock | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    requireBuild();
    // No in-process worker: the workers of this test are real processes that can be killed.
    h = await startHarness('crash', { worker: false, fakeLlm: { tokenDelayMs: 100 } });
    redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix });
    ada = await signUp(h, 'ada');
  });
  afterEach(async () => {
    await lock?.release();
    await proxy?.close();
    lock = proxy = undefined;
    for (const child of workers.splice(0)) await stopProcess(child, 'SIGKILL');
    h.llm!.reset();
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  const worker = (env: Record<string, string> = {}): ChildProcess => {
    const child = spawnWorker(h, env);
    workers.push(child);
    return child;
  };
  const completions = () => h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

  /** Sends `content` as a new turn (202 at once) and follows its events on the real SSE endpoint. */
  async function startTurn(content: string): Promise<StartedTurn> {
    return { ...(await startFollowedTurn(h, ada.auth, content)), content };
  }

  async function kill(child: ChildProcess): Promise<void> {
    await stopProcess(child, 'SIGKILL');
    expect(child.signalCode).toBe('SIGKILL');
  }

  async function assistantRows(conversationId: string): Promise<{ id: string; content: string }[]> {
    return h.db.query("SELECT id, content FROM messages WHERE conversation_id = ? AND role = 'assistant'", [
      conversationId,
    ]);
  }

  /**
   * Whether the model call finished: it runs inside the turn's workflow task, so the history records it only when the
   * task ends; the turn's stream tells it at once (`step generation completed`).
   */
  async function generationFinished(turnId: string): Promise<boolean> {
    const stored = await redis.xrange(turnEventsKey(turnId), '-', '+');
    return stored.some(([, fields]) => {
      const data = fields[fields.indexOf('data') + 1] ?? '';
      return fields.includes('step') && /"name":"generation","status":"completed"/.test(data);
    });
  }

  /** Whether the run's history records the model call's outcome (it does once its workflow task ends). */
  async function generationRecorded(turnId: string): Promise<boolean> {
    const events = (await h.temporal.workflow.getHandle(`turn:${turnId}`).fetchHistory()).events ?? [];
    return events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  }

  /**
   * The turn ends completed with one assistant message, the whole answer; the SSE client shows that answer once and
   * saw `restarts` restarted generations; the turn's whole event stream ends with one `message.completed`.
   */
  async function expectAnsweredOnce(turn: StartedTurn, restarts: number): Promise<void> {
    const answer = `Echo: ${turn.content}`;
    const handle = h.temporal.workflow.getHandle(`turn:${turn.turnId}`);
    const result = (await handle.result()) as { id: string; content: string };
    expect(result.content).toBe(answer);
    expect(await assistantRows(turn.conversationId)).toEqual([{ id: result.id, content: answer }]);
    const status = await h.http.get(`${API}/turns/${turn.turnId}`).set('Authorization', ada.auth);
    expect(status.body).toMatchObject({ status: 'completed', assistantMessageId: result.id });
    const audited = await h.db.query(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'turn.completed' AND target_id = ?",
      [turn.turnId],
    );
    expect(Number(audited[0].n)).toBe(1);

    await waitFor(async () => (turn.events.events.some((e) => e.event === 'message.completed') ? true : undefined));
    const seen = turn.events.events;
    expect(shownText(seen)).toBe(answer);
    expect(seen.filter(isRestart)).toHaveLength(restarts);
    // Before each restart the client had a beginning of the answer, never other text.
    const attempts: (typeof seen)[] = [[]];
    for (const event of seen) {
      if (isRestart(event)) attempts.push([]);
      else attempts.at(-1)!.push(event);
    }
    for (const attempt of attempts) expect(answer.startsWith(tokensOf(attempt))).toBe(true);
    expect(seen.at(-1)).toMatchObject({ event: 'message.completed', data: { assistantMessage: { id: result.id } } });
    const stored = await redis.xrange(turnEventsKey(turn.turnId), '-', '+');
    const names = stored.map(([, fields]) => fields[fields.indexOf('event') + 1]);
    expect(names.filter((name) => name === 'message.completed')).toHaveLength(1);
    expect(names.at(-1)).toBe('message.completed');
  }

  it('while loading the context: a new worker loads it again; the model is called once', async () => {
    const turn = await startTurn(words(8));
    // Reading the branch waits on the lock: the step is under way on the first worker when it dies.
    lock = await lockTable(h, 'messages');
    const first = worker();
    await lock.blocked();
    expect(await generationFinished(turn.turnId)).toBe(false);
    await kill(first);
    await lock.release();
    expect(completions()).toHaveLength(0);

    worker();
    await expectAnsweredOnce(turn, 0);
    expect(completions().map((c) => c.aborted)).toEqual([false]);
  });

  it('mid-generation: the generation is retried on a new worker, which the stream announces with `restarted`', async () => {
    h.llm!.tokenDelayMs = 200;
    const first = worker();
    const turn = await startTurn(words(20));
    await waitFor(async () => (turn.events.events.filter((e) => e.event === 'token').length >= 3 ? true : undefined));
    await kill(first);
    expect(await assistantRows(turn.conversationId)).toEqual([]);

    h.llm!.tokenDelayMs = 20;
    worker();
    await expectAnsweredOnce(turn, 1);
    // The first model call was cut off by the kill; the retry on the new worker generated the answer again.
    expect(completions().map((c) => c.aborted)).toEqual([true, false]);
    if (process.env.RECORD_HISTORIES === '1')
      recordHistory(`turn:${turn.turnId}`, h.config.temporal.address, RETRIED_FIXTURE);
  });

  it('after the generation, before the answer is stored: the new worker stores it without calling the model again', async () => {
    const first = worker();
    const turn = await startTurn(words(8));
    await waitFor(async () => (completions().length > 0 ? true : undefined));
    // The context is loaded (the model is streaming); storing the answer will wait on the lock.
    lock = await lockTable(h, 'messages');
    await lock.blocked();
    expect(await generationFinished(turn.turnId)).toBe(true);
    // Nothing of the turn is in its history yet: the new worker runs the steps again, but the model call's output was
    // kept, so the model is not asked twice.
    expect(await generationRecorded(turn.turnId)).toBe(false);
    await kill(first);
    await lock.release();
    expect(await assistantRows(turn.conversationId)).toEqual([]);

    worker();
    await expectAnsweredOnce(turn, 0);
    expect(completions().map((c) => c.aborted)).toEqual([false]);
  });

  it('right after the answer is stored, before Temporal hears of it: the new worker stores nothing twice', async () => {
    proxy = await new TcpProxy('127.0.0.1', Number(h.config.temporal.address.split(':')[1])).start();
    const first = worker({ TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}` });
    const turn = await startTurn(words(8));
    await waitFor(async () => (completions().length > 0 ? true : undefined));
    lock = await lockTable(h, 'messages');
    await lock.blocked();
    expect(await generationFinished(turn.turnId)).toBe(true);
    // The worker can no longer report to Temporal; then it stores the answer, and dies.
    await proxy.cut();
    await lock.release();
    await waitFor(async () => ((await assistantRows(turn.conversationId)).length > 0 ? true : undefined));
    await kill(first);
    const described = await h.temporal.workflow.getHandle(`turn:${turn.turnId}`).describe();
    expect(described.status.name).toBe('RUNNING');

    worker();
    await expectAnsweredOnce(turn, 0);
    expect(completions().map((c) => c.aborted)).toEqual([false]);
  });
});
