import type { ChildProcess } from 'node:child_process';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';
import { Harness, signUp, startHarness, waitFor } from './support/harness';

describe('worker crash during generation', () => {
  let h: Harness;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    // No in-process worker: the workers of this test are real processes that can be killed.
    h = await startHarness('crash', { worker: false, fakeLlm: { tokenDelayMs: 250 } });
  });
  afterAll(async () => {
    for (const child of workers) await stopProcess(child, 'SIGKILL');
    await h?.close();
  });

  it('kill -9 mid-generation: a new worker finishes the turn and exactly one answer is stored', async () => {
    const { auth } = await signUp(h, 'crash');
    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const content = 'please survive a worker crash while you are answering this question';

    const first = spawnWorker(h);
    workers.push(first);
    const sent = await h.http
      .post(`/api/v1/conversations/${conversation.body.id}/messages`)
      .set('Authorization', auth)
      .set('Prefer', 'respond-async')
      .send({ content });
    expect(sent.status).toBe(202);

    // Wait until the model is streaming to the first worker, then kill it without warning.
    await waitFor(async () =>
      h.llm!.requests.some((r) => r.path.startsWith('/v1/chat/completions')) ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    await stopProcess(first, 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    const beforeRestart = await h.db.query("SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant'");
    expect(Number(beforeRestart[0].n)).toBe(0);

    const second = spawnWorker(h);
    workers.push(second);
    const turn = await waitFor(
      async () => {
        const res = await h.http.get(`/api/v1/turns/${sent.body.id}`).set('Authorization', auth);
        return res.body.status === 'completed' || res.body.status === 'failed' ? res.body : undefined;
      },
      60_000,
      250,
    );
    expect(turn.status).toBe('completed');

    const answers: { id: string; content: string }[] = await h.db.query(
      "SELECT id, content FROM messages WHERE conversation_id = ? AND role = 'assistant'",
      [conversation.body.id],
    );
    expect(answers).toEqual([{ id: turn.assistantMessageId, content: `Echo: ${content}` }]);
    // The first attempt was cut off by the kill; the retry on the new worker generated the answer again.
    const calls = h.llm!.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls[0]!.aborted).toBe(true);

    await stopProcess(second, 'SIGTERM');
    expect(second.exitCode).toBe(0);
  });
});
