import { parse as parseCsv } from 'csv-parse/sync';
import { signUp, waitFor } from './support/harness';
import {
  allResults,
  getReplay,
  JUDGE_MODEL,
  originalsChecksum,
  question,
  type ReplayStack,
  type ResultBody,
  seedConversations,
  startReplayStack,
  waitForReplay,
} from './support/replays';

/*
 * Batch replays end to end: the API, the replay workflows on their own task queue, MySQL, Redis and Temporal are real;
 * one fake LLM answers differently per model (test/fakes/fake-llm.server.ts) and judges by length.
 * Twenty conversations of two user turns each are answered by real chat turns first (fake-model: "Echo: <question>").
 */
describe('batch replay (real MySQL, Redis, Temporal; fake LLM per model)', () => {
  let stack: ReplayStack;
  let auth: string;
  let conversations: string[];
  const CONVERSATIONS = 20;
  const TURNS = 2;

  beforeAll(async () => {
    stack = await startReplayStack('replaybatch');
    ({ auth } = await signUp(stack.h, 'admin')); // the first account: an admin
    conversations = await seedConversations(stack.h, auth, CONVERSATIONS, TURNS);
  });
  afterAll(async () => stack?.close());

  const post = (body: object) => stack.h.http.post('/api/v1/replays').set('Authorization', auth).send(body);
  const byTurn = (results: ResultBody[]) =>
    new Map(results.map((r) => [`${r.conversationId}:${r.turnIndex}:${r.arm.index}`, r]));

  it('pinned: two arms answer every turn of 20 conversations from the original history; judged, originals untouched', async () => {
    const before = await originalsChecksum(stack.h);
    const created = await post({
      selection: { conversationIds: conversations },
      arms: [{ model: 'fake-recall' }, { model: 'fake-terse', label: 'terse' }],
      mode: 'pinned',
      judge: { model: JUDGE_MODEL, seed: 42 },
      limits: { concurrency: 4 },
    });
    expect(created.status).toBe(202);
    expect(created.headers.location).toBe(`/api/v1/replays/${created.body.id}`);
    expect(created.body).toMatchObject({
      status: expect.stringMatching(/^(queued|running)$/),
      mode: 'pinned',
      selection: { conversationIds: CONVERSATIONS },
      arms: [
        { index: 0, label: 'fake-recall', model: 'fake-recall', provider: 'fake', retrieval: false, webSearch: false },
        { index: 1, label: 'terse', model: 'fake-terse', provider: 'fake' },
      ],
      judge: { model: JUDGE_MODEL, provider: 'judge', against: 'original' },
      seed: 42,
      workflowId: `replay:${created.body.id}`,
    });

    const done = await waitForReplay(stack.h, auth, created.body.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({
      status: 'completed',
      conversations: { total: CONVERSATIONS, done: CONVERSATIONS, failed: 0, cancelled: 0, running: 0, pending: 0 },
      turns: { done: CONVERSATIONS * TURNS * 2, failed: 0 },
      etaSeconds: 0,
    });
    expect(done.progress.tokens.completion).toBeGreaterThan(0);

    const results = await allResults(stack.h, auth, created.body.id);
    expect(results).toHaveLength(CONVERSATIONS * TURNS * 2);
    const found = byTurn(results);
    expect(found.size).toBe(results.length); // exactly one answer per turn and arm
    for (const [n, conversationId] of conversations.entries()) {
      for (let turn = 0; turn < TURNS; turn++) {
        const q = question(n, turn);
        const recall = found.get(`${conversationId}:${turn}:0`)!;
        // The original history: before turn 1 the model saw the original answer to turn 0.
        const previous = turn === 0 ? 'nothing' : `Echo: ${question(n, turn - 1)}`;
        expect(recall).toMatchObject({
          userMessage: { content: q },
          original: { content: `Echo: ${q}` },
          arm: { index: 0, status: 'complete', content: `Echo: ${q} (after: ${previous})`, model: 'fake-recall' },
          // The judge prefers the longer answer: the recall arm's is longer than the original's.
          verdict: { outcome: 'win', judgeModel: JUDGE_MODEL, against: 'original' },
          bucket: 'improved',
        });
        expect(found.get(`${conversationId}:${turn}:1`)).toMatchObject({
          arm: { index: 1, status: 'complete', content: 'question', model: 'fake-terse' },
          verdict: { outcome: 'loss' },
          bucket: 'regressed',
        });
      }
    }
    // The judge saw the arm's answer first about half the time, by the seed; the outcome never depends on it.
    const orders = results.map((r) => r.verdict!.order);
    expect(orders.filter((o) => o === 'arm-first').length).toBeGreaterThan(10);
    expect(orders.filter((o) => o === 'baseline-first').length).toBeGreaterThan(10);
    const judgeCalls = stack.llm.requests.filter(
      (r) => r.path.startsWith('/v1/chat/completions') && (r.body as { model?: string }).model === JUDGE_MODEL,
    );
    expect(judgeCalls).toHaveLength(CONVERSATIONS * TURNS * 2);

    // Only the replay's own tables were written.
    expect(await originalsChecksum(stack.h)).toEqual(before);

    // Filters: one arm, one bucket.
    expect(await allResults(stack.h, auth, created.body.id, '&arm=1&bucket=regressed')).toHaveLength(
      CONVERSATIONS * TURNS,
    );
    expect(await allResults(stack.h, auth, created.body.id, '&arm=1&bucket=improved')).toHaveLength(0);

    // The report, in three formats that say the same.
    const json = await stack.h.http.get(`/api/v1/replays/${created.body.id}/report`).set('Authorization', auth);
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const [recallArm, terseArm] = json.body.summary.arms;
    expect(recallArm).toMatchObject({
      arm: 0,
      turns: 40,
      failed: 0,
      wins: 40,
      ties: 0,
      losses: 0,
      against: 'original',
      buckets: { improved: 40, regressed: 0, unchanged: 0 },
    });
    expect(recallArm.winRate.value).toBe(1);
    expect(recallArm.winRate.low).toBeGreaterThan(0.9);
    expect(terseArm).toMatchObject({ wins: 0, losses: 40, buckets: { regressed: 40 } });
    expect(json.body.summary.original).toMatchObject({ turns: 40, missing: 0 });

    const csv = await stack.h.http
      .get(`/api/v1/replays/${created.body.id}/report?format=csv`)
      .set('Authorization', auth);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows: Record<string, string>[] = parseCsv(csv.text, { columns: true });
    expect(rows.map((r) => r.arm)).toEqual(['0', '1', 'original']);
    expect(rows[0]).toMatchObject({
      model: 'fake-recall',
      wins: '40',
      losses: '0',
      win_rate: String(recallArm.winRate.value),
      win_rate_low: String(recallArm.winRate.low),
      completion_tokens: String(recallArm.tokens.completion),
    });
    expect(rows[1]).toMatchObject({ label: 'terse', losses: '40', regressed: '40' });

    const md = await stack.h.http.get(`/api/v1/replays/${created.body.id}/report?format=md`).set('Authorization', auth);
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    const table = md.text.split('\n').filter((line) => /^\| (0|1|original) \|/.test(line));
    expect(table.map((line) => line.split('|').map((cell) => cell.trim())[3])).toEqual([
      'fake-recall',
      'fake-terse',
      '',
    ]);
    expect(md.text).toContain('Arm 0 (fake-recall) vs the original answers: **better**');
    expect(md.text).toContain('Arm 1 (terse) vs the original answers: **worse**');

    // Operators find the replay's runs, and one conversation's, by search attribute.
    const runs = await waitFor(async () => {
      const ids: string[] = [];
      for await (const run of stack.h.temporal.workflow.list({ query: `ReplayId = "${created.body.id}"` })) {
        ids.push(run.workflowId);
      }
      return ids.length === CONVERSATIONS + 1 ? ids : undefined;
    });
    expect(runs).toContain(`replay:${created.body.id}:${conversations[3]}`);
    const one = [];
    for await (const run of stack.h.temporal.workflow.list({
      query: `ReplayId = "${created.body.id}" AND ConversationId = "${conversations[3]}"`,
    })) {
      one.push(run);
    }
    expect(one.map((run) => [run.workflowId, run.type])).toEqual([
      [`replay:${created.body.id}:${conversations[3]}`, 'replayConversation'],
    ]);
    expect(String(one[0]!.memo?.arms)).toContain('fake-recall');
  });

  it('trajectory: each arm builds its history from its own earlier answers', async () => {
    const created = await post({
      selection: { conversationIds: conversations },
      arms: [{ model: 'fake-recall' }, { model: 'fake-verbose' }],
      mode: 'trajectory',
    });
    expect(created.status).toBe(202);
    const done = await waitForReplay(stack.h, auth, created.body.id);
    expect(done.progress.conversations).toMatchObject({ done: CONVERSATIONS, failed: 0 });
    const found = byTurn(await allResults(stack.h, auth, created.body.id));
    expect(found.size).toBe(CONVERSATIONS * TURNS * 2);
    for (const [n, conversationId] of conversations.entries()) {
      const first = `Echo: ${question(n, 0)} (after: nothing)`;
      expect(found.get(`${conversationId}:0:0`)!.arm.content).toBe(first);
      // Its own first answer, not the original one, came before the second question.
      expect(found.get(`${conversationId}:1:0`)!.arm.content).toBe(`Echo: ${question(n, 1)} (after: ${first})`);
      expect(found.get(`${conversationId}:1:1`)!.arm.content).toBe(
        `Echo: ${question(n, 1)} In more detail: ${question(n, 1)}`,
      );
      // No judge: no verdicts, buckets from the metrics alone.
      expect(found.get(`${conversationId}:1:1`)).toMatchObject({ verdict: null, bucket: 'unchanged' });
    }
    const report = await stack.h.http.get(`/api/v1/replays/${created.body.id}/report`).set('Authorization', auth);
    expect(report.body.summary.arms[1]).toMatchObject({ against: null, judged: 0, winRate: null });
  });

  it('continues as new when a run has started its share, and finishes every conversation once', async () => {
    const created = await post({
      selection: { conversationIds: conversations.slice(0, 10) },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
      limits: { concurrency: 2, conversationsPerRun: 3 },
    });
    const done = await waitForReplay(stack.h, auth, created.body.id);
    expect(done.progress).toMatchObject({
      status: 'completed',
      conversations: { total: 10, done: 10 },
      turns: { done: 20, failed: 0 },
      runs: 4, // 3 + 3 + 3 + 1
    });
    const results = await allResults(stack.h, auth, created.body.id);
    expect(new Set(results.map((r) => `${r.conversationId}:${r.turnIndex}`)).size).toBe(20);
    expect(results.every((r) => r.bucket === 'unchanged' && r.arm.content === r.original?.content)).toBe(true);
  });

  it('records a conversation that fails with its reason, and goes on with the others', async () => {
    stack.llm.reset();
    // The first model call of the replay is refused (400: not retried).
    stack.llm.failNext(1, 400);
    const created = await post({
      selection: { conversationIds: conversations.slice(0, 4) },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
      limits: { concurrency: 1 },
    });
    const done = await waitForReplay(stack.h, auth, created.body.id);
    expect(done.status).toBe('completed');
    expect(done.progress.conversations).toMatchObject({ total: 4, done: 3, failed: 1 });
    expect(done.progress.turns).toEqual({ done: 6, failed: 1 });
    const results = await allResults(stack.h, auth, created.body.id);
    const failed = results.filter((r) => r.arm.status === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({
        conversationId: conversations[0],
        turnIndex: 0,
        arm: expect.objectContaining({ error: expect.objectContaining({ code: 'llm_bad_request' }) }),
        bucket: 'regressed',
      }),
    ]);
    const report = await stack.h.http.get(`/api/v1/replays/${created.body.id}/report`).set('Authorization', auth);
    expect(report.body.failedConversations).toEqual([
      { conversationId: conversations[0], code: 'llm_bad_request', detail: expect.any(String) },
    ]);
    expect(report.body.summary.arms[0]).toMatchObject({ turns: 7, failed: 1 });
  });

  it('pauses, resumes and cancels', async () => {
    stack.llm.reset();
    stack.llm.firstTokenDelayMs = 150;
    const created = await post({
      selection: { conversationIds: conversations },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
      limits: { concurrency: 2 },
    });
    const id = created.body.id as string;
    await waitFor(async () => ((await getReplay(stack.h, auth, id)).progress.turns.done >= 2 ? true : undefined));

    const paused = await stack.h.http.post(`/api/v1/replays/${id}/pause`).set('Authorization', auth);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', progress: { status: 'paused' } });
    // Running conversations stop at their next turn: after the answers in flight, nothing more is stored.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settled = (await getReplay(stack.h, auth, id)).progress.turns.done;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const still = await getReplay(stack.h, auth, id);
    expect(still).toMatchObject({ status: 'paused' });
    expect(still.progress.turns.done).toBe(settled);
    expect(settled).toBeLessThan(CONVERSATIONS * TURNS);

    const resumed = await stack.h.http.post(`/api/v1/replays/${id}/resume`).set('Authorization', auth);
    expect(resumed.body).toMatchObject({ status: 'running' });
    await waitFor(async () => ((await getReplay(stack.h, auth, id)).progress.turns.done > settled ? true : undefined));

    const cancelled = await stack.h.http.post(`/api/v1/replays/${id}/cancel`).set('Authorization', auth);
    expect(cancelled.status).toBe(200);
    const ended = await waitForReplay(stack.h, auth, id);
    expect(ended.status).toBe('cancelled');
    const c = ended.progress.conversations;
    expect(c.cancelled).toBeGreaterThan(0);
    expect(c.done + c.failed + c.cancelled).toBeLessThanOrEqual(CONVERSATIONS);
    const stored = (await allResults(stack.h, auth, id)).length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await allResults(stack.h, auth, id)).toHaveLength(stored);
    const rows: { status: string; n: string }[] = await stack.h.db.query(
      'SELECT status, COUNT(*) AS n FROM replay_conversations WHERE replay_id = ? GROUP BY status',
      [id],
    );
    expect(rows.find((r) => r.status === 'pending' || r.status === 'running')).toBeUndefined();

    // An ended replay cannot be paused, resumed or cancelled.
    for (const action of ['pause', 'resume', 'cancel']) {
      const late = await stack.h.http.post(`/api/v1/replays/${id}/${action}`).set('Authorization', auth);
      expect([late.status, late.body.code]).toEqual([409, 'conflict']);
    }
    stack.llm.reset();
  });

  it('selects by creation time and search, confirms the batch size, and keeps to a provider rate', async () => {
    const since = new Date().toISOString();
    const zebras: string[] = [];
    for (const n of [1, 2, 3]) {
      const conversation = await stack.h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
      zebras.push(conversation.body.id as string);
      const sent = await stack.h.http
        .post(`/api/v1/conversations/${conversation.body.id}/messages`)
        .set('Authorization', auth)
        .send({ content: `what do zebras eat, part ${n}?` });
      expect(sent.status).toBe(200);
      await stack.h.http
        .post(`/api/v1/conversations/${conversation.body.id}/messages`)
        .set('Authorization', auth)
        .send({ content: `and where do they sleep, part ${n}?` });
    }
    const select = { since, query: 'zebras' };

    // More conversations than the caller confirmed: refused, nothing written.
    const counted = async () =>
      Number((await stack.h.db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM replays'))[0]!.n);
    const replaysBefore = await counted();
    const tooMany = await post({
      selection: select,
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
      limits: { maxConversations: 2 },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([
      { field: 'limits.maxConversations', message: expect.stringContaining('has 3 conversations') },
    ]);
    expect(await counted()).toBe(replaysBefore);

    // Every model call is timed: 4 requests a second for the provider, shared by two conversations at once.
    const started: number[] = [];
    const reply = stack.llm.reply;
    stack.llm.reply = (messages, body) => {
      started.push(Date.now());
      return reply(messages, body);
    };
    const created = await post({
      selection: select,
      arms: [{ model: 'fake-verbose', retrieval: true, webSearch: true, systemPrompt: 'Be thorough.' }],
      mode: 'trajectory',
      limits: { concurrency: 2, maxConversations: 3, providers: [{ name: 'fake', requestsPerSecond: 4 }] },
    });
    expect(created.status).toBe(202);
    expect(created.body.selection).toEqual({ since: new Date(since).toISOString(), query: 'zebras' });
    const done = await waitForReplay(stack.h, auth, created.body.id);
    stack.llm.reset();
    expect(done.progress.conversations).toMatchObject({ total: 3, done: 3 });
    const results = await allResults(stack.h, auth, created.body.id);
    expect(new Set(results.map((r) => r.conversationId))).toEqual(new Set(zebras));
    expect(results.map((r) => r.arm.status)).toEqual(Array(6).fill('complete'));
    expect(started).toHaveLength(6);
    for (const at of started) expect(started.filter((t) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(4);
    expect(Math.max(...started) - Math.min(...started)).toBeGreaterThanOrEqual(1000);
  });

  it('lists the replays of their creator only, and hides them from everyone else', async () => {
    const list = await stack.h.http.get('/api/v1/replays?limit=2').set('Authorization', auth);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const next = await stack.h.http
      .get(`/api/v1/replays?limit=100&cursor=${list.body.nextCursor as string}`)
      .set('Authorization', auth);
    expect(next.body.items.length).toBeGreaterThanOrEqual(3);
    const first = list.body.items[0].id as string;

    const other = await signUp(stack.h, 'other');
    const promoted = await stack.h.http
      .patch(`/api/v1/admin/users/${other.userId}`)
      .set('Authorization', auth)
      .send({ role: 'admin' });
    expect(promoted.status).toBe(200);
    const login = await stack.h.http.post('/api/v1/auth/login').send({ email: other.email, password: other.password });
    const otherAdmin = `Bearer ${login.body.accessToken as string}`;
    expect((await stack.h.http.get(`/api/v1/replays/${first}`).set('Authorization', otherAdmin)).status).toBe(404);
    expect((await stack.h.http.get('/api/v1/replays').set('Authorization', otherAdmin)).body.items).toEqual([]);
    // …nor may they replay conversations they cannot read: 404 naming them.
    const refused = await stack.h.http
      .post('/api/v1/replays')
      .set('Authorization', otherAdmin)
      .send({
        selection: { conversationIds: conversations.slice(0, 2) },
        arms: [{ model: 'fake-model' }],
        mode: 'pinned',
      });
    expect(refused.status).toBe(404);
    expect(refused.body.detail).toContain(conversations[0]);
    expect(refused.body.conversationIds).toEqual(conversations.slice(0, 2));
  });

  it('maps a retried request with the same Idempotency-Key to the same replay', async () => {
    const body = {
      selection: { conversationIds: conversations.slice(0, 1) },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
    };
    const first = await stack.h.http
      .post('/api/v1/replays')
      .set('Authorization', auth)
      .set('Idempotency-Key', 'once')
      .send(body);
    const again = await stack.h.http
      .post('/api/v1/replays')
      .set('Authorization', auth)
      .set('Idempotency-Key', 'once')
      .send(body);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const reused = await stack.h.http
      .post('/api/v1/replays')
      .set('Authorization', auth)
      .set('Idempotency-Key', 'once')
      .send({ ...body, mode: 'trajectory' });
    expect([reused.status, reused.body.code]).toEqual([422, 'idempotency_key_reused']);
    await waitForReplay(stack.h, auth, first.body.id as string);
  });

  it("deletes a conversation's replayed answers with the conversation, and keeps that the replay covered it", async () => {
    const conversation = await stack.h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const id = conversation.body.id as string;
    await stack.h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', auth)
      .send({ content: 'soon deleted' });
    const created = await post({
      selection: { conversationIds: [id] },
      arms: [{ model: 'fake-model' }],
      mode: 'pinned',
    });
    await waitForReplay(stack.h, auth, created.body.id);
    expect(await allResults(stack.h, auth, created.body.id)).toHaveLength(1);
    expect((await stack.h.http.delete(`/api/v1/conversations/${id}`).set('Authorization', auth)).status).toBe(204);
    expect(await allResults(stack.h, auth, created.body.id)).toEqual([]);
    const replay = await getReplay(stack.h, auth, created.body.id);
    expect(replay.progress.conversations).toMatchObject({ total: 1, done: 1 });
  });
});
