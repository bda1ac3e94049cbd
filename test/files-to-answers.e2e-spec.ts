import { resolve } from 'node:path';
import type { Citation } from '#libs/contracts/chat-turn.contract';
import { FAKE_EMBEDDING_DIMENSIONS, FakeEmbeddings, startFakeEmbeddings } from './fakes/fake-embeddings.server';
import { Harness, signUp, startHarness, waitFor } from './support/harness';
import { recordHistory } from './support/histories';

const API = '/api/v1';
/** `RECORD_HISTORIES=1` also writes this run's ingestFile history for the replay test. */
const INGEST_FIXTURE = resolve(__dirname, 'fixtures/histories/ingest-file.ready.json');
/** … and the ingestFile history of the file whose embeddings were refused. */
const INGEST_FAILED_FIXTURE = resolve(__dirname, 'fixtures/histories/ingest-file.failed.json');

const HANDBOOK = `# Travel policy

## Booking

Employees book rail travel through the travel desk at least five working days ahead.

## Expenses

Meal expenses abroad are reimbursed up to forty euros per day against receipts.
`;

/**
 * The whole path with embeddings on: upload through the API → ingestFile embeds every chunk (a fake OpenAI-compatible
 * embeddings server) → a chat turn retrieves in hybrid mode and cites the file; and an embedding provider that
 * refuses its key fails the file with a clear reason instead of retrying forever.
 */
describe('from an uploaded file to a cited answer (embeddings on)', () => {
  let h: Harness;
  let embeddings: FakeEmbeddings;

  beforeAll(async () => {
    embeddings = await startFakeEmbeddings();
    h = await startHarness('files_answers', {
      env: {
        EMBEDDING_BASE_URL: embeddings.url,
        EMBEDDING_MODEL: 'fake-embed',
        EMBEDDING_DIMENSIONS: String(FAKE_EMBEDDING_DIMENSIONS),
        CHUNK_TOKENS: '40',
        CHUNK_OVERLAP_TOKENS: '5',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await embeddings?.close();
  });

  async function uploadAndSettle(auth: string, name: string, text: string) {
    const res = await h.http
      .post(`${API}/files`)
      .set('Authorization', auth)
      .attach('file', Buffer.from(text), { filename: name, contentType: 'text/markdown' });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const file = await waitFor(async () => {
      const got = await h.http.get(`${API}/files/${id}`).set('Authorization', auth);
      return got.body.status === 'processing' ? undefined : got.body;
    }, 60_000);
    return { id, file };
  }

  it('embeds every chunk at ingestion and answers with hybrid retrieval citing the file', async () => {
    const ada = await signUp(h, 'ada');
    const { id, file } = await uploadAndSettle(ada.auth, 'travel.md', HANDBOOK);
    expect(file).toMatchObject({ status: 'ready', progress: 100 });
    expect(file.chunks).toBeGreaterThanOrEqual(2);

    const rows: { seq: number; heading: string | null; bytes: number | null }[] = await h.db.query(
      `SELECT c.seq, c.heading, LENGTH(v.embedding) AS bytes
         FROM file_chunks c LEFT JOIN file_chunk_vectors v ON v.chunk_id = c.id
        WHERE c.file_id = ? ORDER BY c.seq`,
      [id],
    );
    expect(rows).toHaveLength(file.chunks);
    for (const row of rows) expect(Number(row.bytes)).toBe(FAKE_EMBEDDING_DIMENSIONS * 4);
    expect(rows.map((row) => row.heading)).toContain('Travel policy › Expenses');
    const [fileRow] = await h.db.query('SELECT embedding_model FROM files WHERE id = ?', [id]);
    expect(fileRow.embedding_model).toBe('fake-embed');

    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    // A paraphrase: "food costs" / "refunded" are not the file's words; the vectors still find the passage.
    const sent = await h.http
      .post(`${API}/conversations/${conversation.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'How much of my meal expenses abroad is reimbursed?', fileIds: [id] });
    expect(sent.status).toBe(200);
    const citations = sent.body.citations as Citation[];
    expect(citations[0]).toMatchObject({ kind: 'file', fileId: id, title: 'travel.md › Travel policy › Expenses' });
    expect(citations[0]!.snippet).toContain('forty euros');
    const turn = await h.http.get(`${API}/turns/${sent.body.turnId}`).set('Authorization', ada.auth);
    expect(turn.body.steps.find((s: { name: string }) => s.name === 'retrieval').detail).toMatch(/hybrid/);

    if (process.env.RECORD_HISTORIES === '1') {
      recordHistory(`ingest:${id}`, h.config.temporal.address, INGEST_FIXTURE);
    }
  });

  it('fails the file with a clear reason when the embedding provider refuses its key', async () => {
    const bob = await signUp(h, 'bob');
    embeddings.setFailure(401);
    try {
      const { id, file } = await uploadAndSettle(bob.auth, 'refused.md', HANDBOOK);
      expect(file.status).toBe('failed');
      expect(file.error.code).toBe('embedding_failed');
      expect(file.error.detail).toMatch(/401|auth|key/i);
      const [row] = await h.db.query('SELECT COUNT(*) AS n FROM file_chunk_vectors WHERE file_id = ?', [id]);
      expect(Number(row.n)).toBe(0);
      if (process.env.RECORD_HISTORIES === '1') {
        const handle = h.temporal.workflow.getHandle(`ingest:${id}`);
        await handle.result(); // the run completes (a handled outcome) once its audit row is written
        recordHistory(handle.workflowId, h.config.temporal.address, INGEST_FAILED_FIXTURE);
      }
    } finally {
      embeddings.setFailure(undefined);
    }
  });
});
