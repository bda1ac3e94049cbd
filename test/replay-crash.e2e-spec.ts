import type { ChildProcess } from 'node:child_process';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';
import { signUp, waitFor } from './support/harness';
import {
  allResults,
  JUDGE_MODEL,
  type ReplayStack,
  seedConversations,
  startReplayStack,
  waitForReplay,
} from './support/replays';

describe('worker killed mid-replay', () => {
  let stack: ReplayStack;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    // No in-process worker: the workers of this test are real processes that can be killed.
    stack = await startReplayStack('replaycrash', { harness: { worker: false } });
  });
  afterAll(async () => {
    for (const child of workers) await stopProcess(child, 'SIGKILL');
    await stack?.close();
  });

  it('kill -9 while conversations are being replayed: a new worker finishes, every turn answered once per arm', async () => {
    const { h, llm } = stack;
    const first = spawnWorker(h);
    workers.push(first);
    const { auth } = await signUp(h, 'admin');
    const CONVERSATIONS = 8;
    const TURNS = 3;
    const conversations = await seedConversations(h, auth, CONVERSATIONS, TURNS);

    llm.reset();
    llm.tokenDelayMs = 40; // each answer streams for a while: the kill lands mid-generation
    const created = await h.http
      .post('/api/v1/replays')
      .set('Authorization', auth)
      .send({
        selection: { conversationIds: conversations },
        arms: [{ model: 'fake-recall' }, { model: 'fake-verbose' }],
        mode: 'trajectory',
        judge: { model: JUDGE_MODEL, seed: 7 },
        limits: { concurrency: 4 },
      });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const stored = async (): Promise<number> => {
      const rows: { n: string }[] = await h.db.query('SELECT COUNT(*) AS n FROM replay_results WHERE replay_id = ?', [
        id,
      ]);
      return Number(rows[0]!.n);
    };

    // Some answers are stored, the rest not yet: kill the worker without warning.
    await waitFor(async () => ((await stored()) >= 6 ? true : undefined), 60_000, 50);
    await stopProcess(first, 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    const atKill = await stored();
    expect(atKill).toBeLessThan(CONVERSATIONS * TURNS * 2);

    const second = spawnWorker(h);
    workers.push(second);
    const done = await waitForReplay(h, auth, id, ['completed', 'failed', 'cancelled'], 180_000);
    expect(done.status).toBe('completed');
    expect(done.progress.conversations).toMatchObject({ total: CONVERSATIONS, done: CONVERSATIONS, failed: 0 });

    // Exactly one answer per turn and arm, each one its arm's own and in trajectory order; one verdict each.
    const rows: { n: string; distinct_turns: string; judged: string }[] = await h.db.query(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT conversation_id, turn_index, arm_index) AS distinct_turns,
              SUM(verdict IS NOT NULL) AS judged
         FROM replay_results WHERE replay_id = ?`,
      [id],
    );
    expect(rows[0]).toEqual({
      n: String(CONVERSATIONS * TURNS * 2),
      distinct_turns: String(CONVERSATIONS * TURNS * 2),
      judged: String(CONVERSATIONS * TURNS * 2),
    });
    const results = await allResults(h, auth, id);
    for (const conversationId of conversations) {
      const recall = results
        .filter((r) => r.conversationId === conversationId && r.arm.index === 0)
        .sort((a, b) => a.turnIndex - b.turnIndex);
      expect(recall.map((r) => r.arm.status)).toEqual(['complete', 'complete', 'complete']);
      // Each answer saw the arm's own stored answer before it: the trajectory held across the crash.
      for (let turn = 1; turn < TURNS; turn++) {
        expect(recall[turn]!.arm.content).toBe(
          `Echo: ${recall[turn]!.userMessage.content!} (after: ${recall[turn - 1]!.arm.content})`,
        );
      }
    }
    const audits: { n: string }[] = await h.db.query(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'replay.completed' AND target_id = ?",
      [id],
    );
    expect(audits[0]!.n).toBe('1');

    await stopProcess(second, 'SIGTERM');
    expect(second.exitCode).toBe(0);
  });
});
