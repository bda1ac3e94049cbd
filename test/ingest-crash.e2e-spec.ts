/**
 * A worker process killed without warning (SIGKILL) while it embeds an uploaded file, on the real services (MySQL,
 * Temporal, S3; a fake embeddings provider): a new worker resumes after the last batch whose vectors were stored. No
 * chunk is embedded twice (but the one batch the provider was answering when the worker died), none is missed, and
 * the file ends `ready`.
 */
import type { ChildProcess } from 'node:child_process';
import { FAKE_EMBEDDING_DIMENSIONS, type FakeEmbeddings, startFakeEmbeddings } from './fakes/fake-embeddings.server';
import { API } from './support/api';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { requireBuild, spawnWorker, stopProcess } from './support/processes';

const BATCH = 4;
/** Batches answered and stored before the kill; the next one is in flight when the worker dies. */
const STORED_BATCHES = 3;

describe('a worker killed (SIGKILL) while it embeds a file', () => {
  let h: Harness;
  let embeddings: FakeEmbeddings;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    // Each batch takes a while at the provider: the kill lands while one is in flight.
    embeddings = await startFakeEmbeddings({ delayMs: 400 });
    h = await startHarness('ingest_crash', {
      worker: false,
      s3: true,
      env: {
        EMBEDDING_BASE_URL: embeddings.url,
        EMBEDDING_MODEL: 'fake-embed',
        EMBEDDING_DIMENSIONS: String(FAKE_EMBEDDING_DIMENSIONS),
        EMBEDDING_BATCH_SIZE: String(BATCH),
        CHUNK_TOKENS: '40',
        CHUNK_OVERLAP_TOKENS: '5',
      },
    });
  });
  afterAll(async () => {
    for (const child of workers) await stopProcess(child, 'SIGKILL');
    await h?.close();
    await embeddings?.close();
  });

  const worker = (): ChildProcess => {
    const child = spawnWorker(h);
    workers.push(child);
    return child;
  };

  it('resumes after the last stored batch: every chunk embedded once, the file ready', async () => {
    const ada = await signUp(h, 'ada');
    // Chunks of 40 tokens: a dozen batches or more.
    const text = Array.from(
      { length: 60 },
      (_, i) => `Paragraph ${i} of the handbook explains rule number ${i} in plain words for every reader here.`,
    ).join('\n\n');
    const first = worker();
    const uploaded = await h.http
      .post(`${API}/files`)
      .set('Authorization', ada.auth)
      .attach('file', Buffer.from(text), { filename: 'handbook.md', contentType: 'text/markdown' });
    expect(uploaded.status).toBe(202);
    const fileId = uploaded.body.id as string;

    // Killed while the provider answers the batch after STORED_BATCHES: their vectors are stored, its are not.
    await waitFor(async () => (embeddings.requests.length > STORED_BATCHES ? true : undefined), 60_000, 20);
    await stopProcess(first, 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    const inFlight = embeddings.requests.filter((r) => !r.answered).map((r) => r.texts);
    expect(inFlight).toHaveLength(1);
    expect(await vectorCount(fileId)).toBe(STORED_BATCHES * BATCH);
    const status = await h.http.get(`${API}/files/${fileId}`).set('Authorization', ada.auth);
    expect(status.body.status).toBe('processing');

    worker();
    const file = await waitFor(
      async () => {
        const got = await h.http.get(`${API}/files/${fileId}`).set('Authorization', ada.auth);
        return got.body.status === 'processing' ? undefined : got.body;
      },
      90_000,
      250,
    );
    expect(file).toMatchObject({ status: 'ready', progress: 100 });

    const chunks: { content: string; bytes: number | null }[] = await h.db.query(
      `SELECT c.content, LENGTH(v.embedding) AS bytes
         FROM file_chunks c LEFT JOIN file_chunk_vectors v ON v.chunk_id = c.id
        WHERE c.file_id = ? ORDER BY c.seq`,
      [fileId],
    );
    expect(chunks.length).toBe(file.chunks);
    expect(chunks.length).toBeGreaterThan((STORED_BATCHES + 2) * BATCH);
    // None missing: every chunk has its vector.
    expect(chunks.filter((chunk) => Number(chunk.bytes) !== FAKE_EMBEDDING_DIMENSIONS * 4)).toEqual([]);
    // None twice: each chunk was sent to the provider once, but those of the batch it was answering at the kill.
    const asked = new Map<string, number>();
    for (const request of embeddings.requests) {
      for (const t of request.texts) asked.set(t, (asked.get(t) ?? 0) + 1);
    }
    const again = new Set(inFlight[0]);
    expect(chunks.map((chunk) => asked.get(chunk.content))).toEqual(
      chunks.map((chunk) => (again.has(chunk.content) ? 2 : 1)),
    );
  });

  async function vectorCount(fileId: string): Promise<number> {
    const [row] = await h.db.query('SELECT COUNT(*) AS n FROM file_chunk_vectors WHERE file_id = ?', [fileId]);
    return Number(row.n);
  }
});
