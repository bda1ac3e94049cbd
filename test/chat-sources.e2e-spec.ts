import { randomUUID } from 'node:crypto';
import type { Citation } from '#libs/contracts/chat-turn.contract';
import { ChunkStore } from '#libs/retrieval/chunk-store';
import { FakeLlm, fakeEmbedding, startFakeLlm } from './fakes/fake-llm.server';
import { FakeSearxng, startFakeSearxng } from './fakes/fake-searxng.server';
import { Harness, signUp, startHarness } from './support/harness';

/**
 * A chat turn's sources, end to end: passages from the user's own files (FULLTEXT, and hybrid with vectors when an
 * embedding provider is configured) and SearxNG results are numbered in the prompt, and the answer carries them as
 * citations; a failing web search degrades the turn instead of failing it.
 */

interface FileSeed {
  name: string;
  chunks: string[];
  status?: 'ready' | 'processing';
}

async function seedFile(h: Harness, userId: string, seed: FileSeed, dimensions?: number): Promise<string> {
  const fileId = randomUUID();
  await h.db.query(
    `INSERT INTO files (id, user_id, name, kind, mime_type, size, storage_key, status, progress, chunk_count)
     VALUES (?, ?, ?, 'md', 'text/markdown', 10, ?, ?, 100, ?)`,
    [fileId, userId, seed.name, `users/${userId}/files/${fileId}`, seed.status ?? 'ready', seed.chunks.length],
  );
  await new ChunkStore(h.db).replaceFileChunks({
    fileId,
    userId,
    chunks: seed.chunks.map((content, seq) => ({
      seq,
      content,
      tokens: content.split(/\s+/).length,
      ...(dimensions ? { embedding: Float32Array.from(fakeEmbedding(content, dimensions)) } : {}),
    })),
  });
  return fileId;
}

type Step = { name: string; status: string; detail?: string };

describe('chat turn sources: files and web search, cited', () => {
  let h: Harness;
  let searx: FakeSearxng;
  let ada: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    searx = await startFakeSearxng();
    h = await startHarness('sources', {
      env: { SEARXNG_URL: searx.url, WEB_SEARCH_BREAKER_FAILURES: '2', WEB_SEARCH_BREAKER_COOLDOWN_SECONDS: '60' },
    });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => {
    await h?.close();
    await searx?.close();
  });

  async function conversation(auth = ada.auth): Promise<string> {
    const created = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  async function steps(turnId: string): Promise<Step[]> {
    const turn = await h.http.get(`/api/v1/turns/${turnId}`).set('Authorization', ada.auth);
    return turn.body.steps as Step[];
  }

  function lastPrompt(llm: FakeLlm): { role: string; content: string }[] {
    const chat = llm.requests.filter((r) => r.path.startsWith('/v1/chat/completions'));
    return (chat.at(-1)!.body as { messages: { role: string; content: string }[] }).messages;
  }

  it("cites passages of the user's ready files, numbered as the model saw them", async () => {
    const fileId = await seedFile(h, ada.userId, {
      name: 'handbook.md',
      chunks: [
        'Employees receive twenty-eight vacation days per calendar year, booked through the portal.',
        'The office canteen serves lunch between noon and two.',
      ],
    });
    await seedFile(h, ada.userId, {
      name: 'draft.md',
      chunks: ['Vacation days: a draft that is still being processed says fifty.'],
      status: 'processing',
    });
    h.llm!.reset();
    const id = await conversation();
    const sent = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'How many vacation days do employees get?' });
    expect(sent.status).toBe(200);

    const citations = sent.body.citations as Citation[];
    expect(citations.length).toBeGreaterThanOrEqual(1);
    expect(citations[0]).toMatchObject({ kind: 'file', title: 'handbook.md', fileId });
    expect(citations[0]!.snippet).toContain('twenty-eight vacation days');
    expect(citations.every((c) => c.fileId === fileId)).toBe(true); // never the file still processing
    expect(sent.body.assistantMessage.citations).toEqual(citations);

    const prompt = lastPrompt(h.llm!);
    const sourcesMessage = prompt.find((m) => m.role === 'system' && m.content.includes('Sources:'));
    expect(sourcesMessage?.content).toContain('[1] handbook.md: Employees receive twenty-eight vacation days');
    expect(prompt.at(-1)).toEqual({ role: 'user', content: 'How many vacation days do employees get?' });

    // Stored with the message: the conversation view shows the same citations.
    const view = await h.http.get(`/api/v1/conversations/${id}`).set('Authorization', ada.auth);
    expect(view.body.messages.at(-1).citations).toEqual(citations);
    const turnSteps = await steps(sent.body.turnId);
    expect(turnSteps.find((s) => s.name === 'retrieval')).toMatchObject({ status: 'completed' });
    expect(turnSteps.find((s) => s.name === 'retrieval')!.detail).toMatch(/passage.*lexical/);
    expect(turnSteps.find((s) => s.name === 'web_search')).toMatchObject({
      status: 'skipped',
      detail: 'not requested',
    });
  });

  it("never retrieves another user's files, and fileIds restricts retrieval to the files named", async () => {
    const bob = await signUp(h, 'bob');
    await seedFile(h, bob.userId, {
      name: 'bob-secret.md',
      chunks: ['The zeppelin launch code is kept in the zeppelin hangar.'],
    });
    const adaZeppelin = await seedFile(h, ada.userId, {
      name: 'zeppelins.md',
      chunks: ['A zeppelin is a rigid airship.'],
    });
    const adaOther = await seedFile(h, ada.userId, {
      name: 'zeppelin-history.md',
      chunks: ['The first zeppelin flew in 1900.'],
    });
    const id = await conversation();

    const all = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'Tell me about the zeppelin' });
    expect(all.status).toBe(200);
    const allFiles = new Set((all.body.citations as Citation[]).map((c) => c.fileId));
    expect(allFiles).toEqual(new Set([adaZeppelin, adaOther]));

    const only = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'Tell me about the zeppelin', fileIds: [adaOther] });
    expect(only.status).toBe(200);
    expect((only.body.citations as Citation[]).map((c) => c.fileId)).toEqual([adaOther]);

    // Naming someone else's file is refused before anything is written.
    const bobsFile = (await h.db.query('SELECT id FROM files WHERE user_id = ?', [bob.userId]))[0].id as string;
    const before = await h.db.query('SELECT COUNT(*) AS n FROM messages');
    const refused = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'Tell me about the zeppelin', fileIds: [bobsFile] });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'fileIds' })]);
    expect(await h.db.query('SELECT COUNT(*) AS n FROM messages')).toEqual(before);
  });

  it('adds web results when asked, and cites them with their URLs', async () => {
    searx.setMode('ok');
    const id = await conversation();
    const sent = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'latest durable execution news', webSearch: true });
    expect(sent.status).toBe(200);
    const web = (sent.body.citations as Citation[]).filter((c) => c.kind === 'web');
    expect(web.length).toBeGreaterThan(0);
    for (const citation of web) expect(citation.url).toMatch(/^https?:\/\//);
    expect((await steps(sent.body.turnId)).find((s) => s.name === 'web_search')).toMatchObject({
      status: 'completed',
    });
    expect(searx.lastParams?.get('q')).toBe('latest durable execution news');

    // The same query again is served from the Redis cache: SearxNG is not asked twice.
    const requests = searx.requests;
    const again = await h.http
      .post(`/api/v1/conversations/${id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'latest durable execution news', webSearch: true });
    expect(again.status).toBe(200);
    expect(searx.requests).toBe(requests);
    expect((await steps(again.body.turnId)).find((s) => s.name === 'web_search')!.detail).toMatch(/cached/);
  });

  it('answers without web results when SearxNG shows a CAPTCHA, then stops asking once the breaker opens', async () => {
    searx.setMode('captcha');
    const id = await conversation();
    const ask = (content: string) =>
      h.http
        .post(`/api/v1/conversations/${id}/messages`)
        .set('Authorization', ada.auth)
        .send({ content, webSearch: true });

    const first = await ask('captcha one');
    expect(first.status).toBe(200);
    expect((first.body.citations as Citation[]).filter((c) => c.kind === 'web')).toEqual([]);
    expect((await steps(first.body.turnId)).find((s) => s.name === 'web_search')).toMatchObject({
      status: 'skipped',
      detail: expect.stringMatching(/^blocked/),
    });
    await ask('captcha two'); // the second failure opens the breaker (threshold 2)
    const requests = searx.requests;
    const third = await ask('captcha three');
    expect(third.status).toBe(200);
    expect(searx.requests).toBe(requests);
    expect((await steps(third.body.turnId)).find((s) => s.name === 'web_search')!.detail).toMatch(/^circuit_open/);
  });
});

describe('chat turn sources with embeddings (hybrid) and the offline responder', () => {
  let h: Harness;
  let embeddings: FakeLlm;
  const DIMS = 64;

  beforeAll(async () => {
    embeddings = await startFakeLlm({ embeddingDimensions: DIMS });
    h = await startHarness('sources_hybrid', {
      fakeLlm: false, // no model: the offline responder answers, and cites
      env: { EMBEDDING_BASE_URL: embeddings.url, EMBEDDING_MODEL: 'fake-embed', EMBEDDING_DIMENSIONS: String(DIMS) },
    });
  });
  afterAll(async () => {
    await h?.close();
    await embeddings?.close();
  });

  it('skips retrieval, and the query embedding, for a user with no ready files', async () => {
    const newcomer = await signUp(h, 'newcomer');
    const before = embeddings.requests.length;
    const created = await h.http.post('/api/v1/conversations').set('Authorization', newcomer.auth).send({});
    const sent = await h.http
      .post(`/api/v1/conversations/${created.body.id}/messages`)
      .set('Authorization', newcomer.auth)
      .send({ content: 'Anything in my files?' });
    expect(sent.status).toBe(200);
    expect(sent.body.citations).toEqual([]);
    const turn = await h.http.get(`/api/v1/turns/${sent.body.turnId}`).set('Authorization', newcomer.auth);
    expect(turn.body.steps.find((s: Step) => s.name === 'retrieval')).toMatchObject({
      status: 'skipped',
      detail: 'no ready files',
    });
    expect(embeddings.requests.length).toBe(before);
  });

  it('retrieves in hybrid mode and the offline reply points at the numbered passages', async () => {
    const ada = await signUp(h, 'ada');
    const fileId = await seedFile(
      h,
      ada.userId,
      { name: 'garden.md', chunks: ['Tomatoes need six hours of direct sun and deep watering twice a week.'] },
      DIMS,
    );
    const created = await h.http.post('/api/v1/conversations').set('Authorization', ada.auth).send({});
    const sent = await h.http
      .post(`/api/v1/conversations/${created.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'How much sun do tomatoes need?' });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage.model).toBe('offline');
    expect(sent.body.citations).toEqual([
      expect.objectContaining({
        kind: 'file',
        fileId,
        title: 'garden.md',
        snippet: expect.stringContaining('six hours'),
      }),
    ]);
    expect(sent.body.assistantMessage.content).toContain('[1] garden.md');
    const turn = await h.http.get(`/api/v1/turns/${sent.body.turnId}`).set('Authorization', ada.auth);
    expect(turn.body.steps.find((s: Step) => s.name === 'retrieval').detail).toMatch(/hybrid/);
    expect(embeddings.requests.some((r) => r.path.startsWith('/v1/embeddings'))).toBe(true);
  });
});
