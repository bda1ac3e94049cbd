/**
 * A worker stopped gracefully (SIGTERM, as an orchestrator does on a deploy) while a turn is generating on it: it
 * stops taking new work, lets the generation finish and exits 0. A generation longer than the grace time also
 * finishes there (the model call runs in the turn's workflow task, which the worker drains) — never ended as if the
 * user had cancelled it. Either way the turn is answered once, in full.
 */
import type { ChildProcess } from 'node:child_process';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';
import { type SseStream, tokensOf } from './support/sse';
import { startFollowedTurn, storedMessages } from './support/turns';

describe('graceful SIGTERM of a worker with a turn in flight', () => {
  let h: Harness;
  let ada: TestUser;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    // No in-process worker: the turn must run on the child process this test stops.
    h = await startHarness('worker_shutdown', { worker: false });
    ada = await signUp(h, 'ada');
  });
  afterEach(async () => {
    for (const child of workers.splice(0)) await stopProcess(child, 'SIGKILL');
    h.llm!.reset();
  });
  afterAll(async () => h?.close());

  /** Sends `content` as a new turn (202 at once) and follows its events on the harness's API. */
  const startTurn = (content: string) => startFollowedTurn(h, ada.auth, content);

  /** Resolves once the model has streamed `n` tokens of the turn: the generation is under way. */
  const tokensStreamed = (events: SseStream, n: number) =>
    waitFor(async () => (events.events.filter((e) => e.event === 'token').length >= n ? true : undefined), 30_000);

  async function finishedTurn(turnId: string): Promise<{ status: string; assistantMessageId: string }> {
    return waitFor(
      async () => {
        const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', ada.auth);
        return ['completed', 'failed', 'cancelled'].includes(res.body.status as string) ? res.body : undefined;
      },
      60_000,
      250,
    );
  }

  const messagesOf = (conversationId: string) => storedMessages(h, conversationId);

  const completions = () => h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

  it('drains: the generation finishes on the stopping worker, which exits 0; another worker stores the answer once', async () => {
    h.llm!.tokenDelayMs = 100; // about 3 s of generation, well inside the 10 s grace time
    const first = spawnWorker(h);
    workers.push(first);
    const content = words(30);
    const { conversationId, turnId, events } = await startTurn(content);
    await tokensStreamed(events, 3);

    await stopProcess(first, 'SIGTERM');
    expect([first.exitCode, first.signalCode]).toEqual([0, null]);
    // It left only after its generation had finished: with no other worker yet, the whole answer streamed from it,
    // and its one model call ran to the end.
    await waitFor(async () => (tokensOf(events.events) === `Echo: ${content}` ? true : undefined), 5_000);
    expect(completions().map((c) => c.aborted)).toEqual([false]);

    // The steps after the generation need a worker that still takes work.
    workers.push(spawnWorker(h));
    const turn = await finishedTurn(turnId);
    expect(turn).toMatchObject({ status: 'completed' });
    expect(await messagesOf(conversationId)).toEqual([`user: ${content}`, `assistant: Echo: ${content}`]);
    expect(completions()).toHaveLength(1);
    await events.done;
    expect(events.events.at(-1)?.event).toBe('message.completed');
  });

  it('a generation outlasting the grace time still finishes on the stopping worker, never cancelled; one full answer', async () => {
    // The model call runs in the turn's workflow task (a local activity), which the worker drains rather than cuts off:
    // a worker given more time than its generations need exits once they are stored. One killed before that (an
    // orchestrator's SIGKILL) hands the turn over as in test/worker-crash.e2e-spec.ts.
    h.llm!.tokenDelayMs = 400; // 40 tokens: about 16 s, longer than the 10 s grace time
    const first = spawnWorker(h);
    workers.push(first);
    const content = words(39);
    const { conversationId, turnId } = await startTurn(content);
    await waitFor(async () => (completions().length > 0 ? true : undefined));

    const stopped = stopProcess(first, 'SIGTERM');
    workers.push(spawnWorker(h));
    await stopped;
    expect([first.exitCode, first.signalCode]).toEqual([0, null]);

    const turn = await finishedTurn(turnId);
    expect(turn).toMatchObject({ status: 'completed' });
    expect(await messagesOf(conversationId)).toEqual([`user: ${content}`, `assistant: Echo: ${content}`]);
    expect(completions().map((c) => c.aborted)).toEqual([false]);
  });
});
