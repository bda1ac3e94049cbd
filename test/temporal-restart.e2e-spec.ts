import { FAKE_EMBEDDING_DIMENSIONS, type FakeEmbeddings, startFakeEmbeddings } from './fakes/fake-embeddings.server';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { PrivateTemporal } from './support/private-temporal';

/*
 * The Temporal server dies (SIGKILL, nothing flushed but what SQLite already had) while chat turns are generating and
 * files are being embedded, and comes back on the same database a few seconds later. The API and the worker keep
 * running and reconnect on their own; every turn must end with exactly one answer and every file `ready`, its chunks
 * stored once. The server is one of this file's own (the shared dev server is never touched).
 */
const TURNS = 3;
const FILES = 2;
const OUTAGE_MS = 3000;
/**
 * Files are ready within ~10 s of the restart in nearly every run, but once in a dozen one took over a minute: an
 * embedding attempt whose heartbeats or completion the dead server never received is only retried after embedChunks'
 * 2-minute heartbeat timeout. Still once, just later; the wait allows for it.
 */
const FILE_RECOVERY_MS = 170_000;

describe('Temporal restart with turns and ingestions in flight: each finishes exactly once', () => {
  let temporal: PrivateTemporal;
  let embeddings: FakeEmbeddings;
  let h: Harness;
  let ada: TestUser;

  beforeAll(async () => {
    temporal = await PrivateTemporal.start();
    embeddings = await startFakeEmbeddings({ delayMs: 700 }); // each file takes a few seconds to embed
    h = await startHarness('temporalrestart', {
      fakeLlm: { tokenDelayMs: 100 }, // each answer takes ~3 s to stream
      env: {
        TEMPORAL_ADDRESS: temporal.address,
        EMBEDDING_BASE_URL: embeddings.url,
        EMBEDDING_MODEL: 'fake-embed',
        EMBEDDING_DIMENSIONS: String(FAKE_EMBEDDING_DIMENSIONS),
        EMBEDDING_BATCH_SIZE: '2',
        CHUNK_TOKENS: '40',
        CHUNK_OVERLAP_TOKENS: '5',
      },
    });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => {
    await temporal?.up(); // the harness's worker shuts down through it
    await h?.close();
    await temporal?.close();
    await embeddings?.close();
  });

  const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
  const document = (topic: string) =>
    Array.from({ length: 8 }, (_, i) => `## ${topic} part ${i}\n\n${words(`${topic}${i}w`, 35)}.\n`).join('\n');

  async function upload(name: string, text: string): Promise<string> {
    const res = await h.http
      .post(`${API}/files`)
      .set('Authorization', ada.auth)
      .attach('file', Buffer.from(text), { filename: name, contentType: 'text/markdown' });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  async function sendAsync(content: string): Promise<{ conversationId: string; turnId: string }> {
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    const conversationId = conversation.body.id as string;
    const res = await h.http
      .post(`${API}/conversations/${conversationId}/messages`)
      .set('Authorization', ada.auth)
      .set('Prefer', 'respond-async')
      .send({ content });
    expect(res.status).toBe(202);
    return { conversationId, turnId: res.body.id as string };
  }

  it('SIGKILLed mid-generation and mid-embedding, restarted on its database: one answer per turn, every file ready', async () => {
    const fileIds: string[] = [];
    for (let i = 0; i < FILES; i++) fileIds.push(await upload(`doc${i}.md`, document(`topic${i}`)));
    const turns = [];
    for (let i = 0; i < TURNS; i++) turns.push({ ...(await sendAsync(words(`t${i}w`, 30))), i });
    // And one client waiting for its answer synchronously across the restart, with an Idempotency-Key to retry with.
    const waiting = words('sync', 30);
    const waitingIn = (await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({})).body
      .id as string;
    const sendWaiting = () =>
      h.http
        .post(`${API}/conversations/${waitingIn}/messages`)
        .set('Authorization', ada.auth)
        .set('Idempotency-Key', `restart-${waitingIn}`)
        .send({ content: waiting });
    const firstTry = sendWaiting().then((res) => res); // supertest sends on then(), so start it now

    // Every turn is generating and every file embedding when the server goes.
    await waitFor(async () => (h.llm!.requests.length >= TURNS + 1 ? true : undefined), 20_000);
    await waitFor(async () => {
      const embedding = await h.db.query<{ n: string }[]>(
        "SELECT COUNT(*) AS n FROM files WHERE status = 'processing' AND id IN (?)",
        [fileIds],
      );
      return embeddings.requests.length >= FILES && Number(embedding[0]!.n) === FILES ? true : undefined;
    }, 20_000);
    await temporal.kill();
    // Nothing was finished before the kill: no answer stored, no file through.
    const answered = await h.db.query<{ n: string }[]>(
      "SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant' AND conversation_id IN (?)",
      [[...turns.map((t) => t.conversationId), waitingIn]],
    );
    expect(Number(answered[0]!.n)).toBe(0);
    const settled = await h.db.query<{ n: string }[]>(
      "SELECT COUNT(*) AS n FROM files WHERE status <> 'processing' AND id IN (?)",
      [fileIds],
    );
    expect(Number(settled[0]!.n)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)); // the outage's length, not an assertion
    await temporal.up();

    // The waiting request gets the answer, or a retryable refusal and then the answer for the same key.
    const first = await firstTry;
    const retried = first.status === 200 ? first : await sendWaiting();
    expect([503, 504, 200]).toContain(first.status);
    expect([retried.status, retried.body.assistantMessage?.content]).toEqual([200, `Echo: ${waiting}`]);
    const waitingRows = await h.db.query<{ role: string }[]>('SELECT role FROM messages WHERE conversation_id = ?', [
      waitingIn,
    ]);
    expect(waitingRows.map((m) => m.role).sort()).toEqual(['assistant', 'user']);

    for (const { turnId } of turns) {
      const turn = await waitFor(async () => {
        const res = await h.http.get(`${API}/turns/${turnId}`).set('Authorization', ada.auth);
        return ['queued', 'running'].includes(res.body.status as string) ? undefined : res.body;
      }, 60_000);
      expect(turn.status).toBe('completed');
    }
    for (const { conversationId, i } of turns) {
      const messages = await h.db.query<{ role: string; content: string }[]>(
        'SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
        [conversationId],
      );
      const content = words(`t${i}w`, 30);
      expect(messages.map((m) => `${m.role}: ${m.content}`)).toEqual([
        `user: ${content}`,
        `assistant: Echo: ${content}`,
      ]);
    }

    for (const [i, fileId] of fileIds.entries()) {
      const file = await waitFor(async () => {
        const res = await h.http.get(`${API}/files/${fileId}`).set('Authorization', ada.auth);
        return res.body.status === 'processing' ? undefined : res.body;
      }, FILE_RECOVERY_MS);
      expect(file).toMatchObject({ status: 'ready', progress: 100 });
      const chunks = await h.db.query<{ seq: number; bytes: number | null; text: string }[]>(
        `SELECT c.seq, LENGTH(v.embedding) AS bytes, c.content AS text
           FROM file_chunks c LEFT JOIN file_chunk_vectors v ON v.chunk_id = c.id
          WHERE c.file_id = ? ORDER BY c.seq`,
        [fileId],
      );
      // Stored once: as many chunks as the file reports, numbered 0..n-1 without repeats, each embedded once.
      expect(chunks.length).toBe(file.chunks as number);
      expect(chunks.map((c) => Number(c.seq))).toEqual(chunks.map((_, seq) => seq));
      expect(chunks.every((c) => Number(c.bytes) === FAKE_EMBEDDING_DIMENSIONS * 4)).toBe(true);
      expect(chunks.length).toBeGreaterThanOrEqual(6);
      expect(chunks.map((c) => c.text).join(' ')).toContain(`topic${i}7w34`); // the last part made it in
    }
  }, 240_000);
});
