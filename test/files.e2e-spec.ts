import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Response } from 'supertest';
import {
  ingestWorkflowId,
  INGEST_FILE_WORKFLOW,
  INGEST_PROGRESS_QUERY,
  type IngestProgress,
  type IngestResult,
} from '#libs/contracts/ingest-file.contract';
import { objectKeyFor, userPrefixFor } from '#libs/storage/object-store';
import { makeDocx } from './fixtures/documents/make-docx';
import { makePdf } from './fixtures/documents/make-pdf';
import { auditRows, count, Harness, signUp, startHarness, waitFor } from './support/harness';
import { startStreamingUpload } from './support/streaming-upload';

/*
 * Files end to end: upload (streamed multipart) → the ingestFile workflow → chunks in MySQL, for the local-directory
 * store and for S3 (SeaweedFS). Real MySQL, Redis, Temporal and object store; no embedding provider (the step is
 * skipped and reported).
 */

const API = '/api/v1';
const MAX_BYTES = 64 * 1024;
const PROBLEM_JSON = /^application\/problem\+json(;|$)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface FileBody {
  id: string;
  name: string;
  size: number;
  mimeType: string;
  kind: string;
  status: 'processing' | 'ready' | 'failed';
  progress: number;
  stage: string | null;
  chunks: number;
  error?: { code: string; detail: string };
  createdAt: string;
  updatedAt: string;
}

describe.each([
  ['local directory', false],
  ['S3 (SeaweedFS)', true],
] as const)('files, end to end (%s store)', (_label, s3) => {
  let h: Harness;
  let ada: { auth: string; userId: string };
  let bob: { auth: string; userId: string };

  beforeAll(async () => {
    h = await startHarness(s3 ? 'filess3' : 'fileslocal', {
      fakeLlm: false,
      s3,
      env: { FILE_MAX_BYTES: String(MAX_BYTES), RATE_LIMIT_FILES_MAX: '1000', RATE_LIMIT_AUTH_MAX: '1000' },
    });
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
  });
  afterAll(async () => h?.close());

  function upload(
    auth: string,
    name: string,
    content: Buffer | string,
    contentType = 'application/octet-stream',
  ): Promise<Response> {
    return h.http
      .post(`${API}/files`)
      .set('Authorization', auth)
      .attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content), { filename: name, contentType });
  }

  /** A multipart body written by hand, for Content-Disposition parameters a form library would not send. */
  function rawUpload(auth: string, disposition: string, content: Buffer): Promise<Response> {
    const boundary = '----gctest-boundary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
        'latin1',
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return h.http
      .post(`${API}/files`)
      .set('Authorization', auth)
      .set('Content-Type', `multipart/form-data; boundary=${boundary}`)
      .send(body);
  }

  async function settled(auth: string, id: string): Promise<FileBody> {
    return waitFor(async () => {
      const res = await h.http.get(`${API}/files/${id}`).set('Authorization', auth);
      expect(res.status).toBe(200);
      const body = res.body as FileBody;
      return body.status === 'processing' ? undefined : body;
    }, 60_000);
  }

  async function chunkContents(fileId: string): Promise<string[]> {
    const rows: { content: string }[] = await h.db.query(
      'SELECT content FROM file_chunks WHERE file_id = ? ORDER BY seq',
      [fileId],
    );
    return rows.map((row) => row.content);
  }

  async function fileRows(userId: string): Promise<number> {
    const rows: { n: string | number }[] = await h.db.query('SELECT COUNT(*) AS n FROM files WHERE user_id = ?', [
      userId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  function expectProblem(res: Response, status: number, code: string, fields?: string[]): void {
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    if (fields) expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(fields.sort());
  }

  /** A user of their own, so "nothing stored" can be checked by listing everything under their prefix. */
  async function freshUser(who: string): Promise<{ auth: string; userId: string }> {
    const user = await signUp(h, who);
    return { auth: user.auth, userId: user.userId };
  }

  /** Nothing of `userId` is left: no row, no object (deletePrefix removes and counts what was there). */
  async function expectNothingStored(userId: string): Promise<void> {
    expect(await fileRows(userId)).toBe(0);
    expect(await h.store.deletePrefix(userPrefixFor(userId))).toBe(0);
  }

  const docxText = 'Durable workflows survive crashes because their history is persisted.';
  const cases: [string, string, () => Promise<Buffer> | Buffer, string, RegExp][] = [
    [
      'txt',
      'notes.txt',
      () => Buffer.from('Plain text notes about Temporal.\nSecond line.\n'),
      'text/plain',
      /Temporal/,
    ],
    [
      'md',
      'readme.md',
      () => Buffer.from('# Title\n\nSome *markdown* about workflows.\n\n## Part two\n\nMore text.\n'),
      'text/markdown',
      /markdown/,
    ],
    [
      'html',
      'page.html',
      () =>
        Buffer.from(
          '<!doctype html><html><head><title>T</title><script>alert("owned")</script></head>' +
            '<body><h1>Heading</h1><p>Visible paragraph text.</p></body></html>',
        ),
      'text/html',
      /Visible paragraph text/,
    ],
    ['csv', 'table.csv', () => Buffer.from('name,role\nAda,engineer\nBob,designer\n'), 'text/csv', /engineer/],
    [
      'json',
      'data.json',
      () => Buffer.from(JSON.stringify({ project: 'gigachat', tags: ['durable', 'workflows'] })),
      'application/json',
      /gigachat/,
    ],
    [
      'docx',
      'report.docx',
      () => makeDocx([{ text: 'Report', style: 'Heading1' }, { text: docxText }]),
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      /persisted/,
    ],
    [
      'pdf',
      'paper.pdf',
      () => makePdf([['First page of the paper.'], ['Second page mentions retrieval.']]),
      'application/pdf',
      /retrieval/,
    ],
  ];

  it.each(cases)(
    'uploads a %s file: 202, then ready with chunks; the content round-trips',
    async (kind, name, make, mime, text) => {
      const bytes = await make();
      const res = await upload(ada.auth, name, bytes);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ name, size: bytes.length, kind, status: 'processing' });
      expect(res.body.mimeType).toMatch(new RegExp(`^${mime.replace(/[.+]/g, '\\$&')}`));
      expect(res.body.id).toMatch(UUID);
      expect(res.headers.location).toBe(`${API}/files/${res.body.id}`);

      const file = await settled(ada.auth, res.body.id as string);
      expect(file).toMatchObject({ status: 'ready', progress: 100, stage: null, kind, size: bytes.length });
      expect(file.chunks).toBeGreaterThan(0);
      expect(file.error).toBeUndefined();
      const contents = await chunkContents(file.id);
      expect(contents).toHaveLength(file.chunks);
      expect(contents.join('\n')).toMatch(text);
      if (kind === 'html') expect(contents.join('\n')).not.toMatch(/alert|owned/);

      const content = await h.http
        .get(`${API}/files/${file.id}/content`)
        .set('Authorization', ada.auth)
        .buffer(true)
        .parse((response, done) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () => done(null, Buffer.concat(parts)));
        });
      expect(content.status).toBe(200);
      expect(Buffer.compare(content.body as Buffer, bytes)).toBe(0);
      const binary = kind === 'pdf' || kind === 'docx';
      expect(content.headers['content-type']).toBe(binary ? mime : `${mime}; charset=utf-8`);
      expect(content.headers['content-disposition']).toBe(
        `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      );
      expect(content.headers['x-content-type-options']).toBe('nosniff');

      // The run completes after it audits (the row says ready one step earlier).
      const run = h.temporal.workflow.getHandle(ingestWorkflowId(file.id));
      expect(await run.result()).toEqual({ status: 'ready', chunks: file.chunks });
      expect(await auditRows(h, 'file.ingested', file.id)).toEqual([
        { actorId: ada.userId, metadata: expect.objectContaining({ chunks: file.chunks, embeddings: 'skipped' }) },
      ]);
      const progress = await run.query<IngestProgress>(INGEST_PROGRESS_QUERY);
      expect(progress).toMatchObject({ status: 'ready', progress: 100, embedding: 'skipped' });
    },
  );

  it('lists your own files newest first with cursor paging, and shows one file in full', async () => {
    const user = await freshUser('lister');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await upload(user.auth, `list-${n}.txt`, `file number ${n}`);
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    const first = await h.http.get(`${API}/files?limit=2`).set('Authorization', user.auth);
    expect(first.status).toBe(200);
    expect(first.body.items.map((f: FileBody) => f.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await h.http
      .get(`${API}/files?limit=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}`)
      .set('Authorization', user.auth);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    const file = await settled(user.auth, ids[0]!);
    expect(file).toEqual({
      id: ids[0],
      name: 'list-1.txt',
      size: 'file number 1'.length,
      mimeType: 'text/plain',
      kind: 'txt',
      status: 'ready',
      progress: 100,
      stage: null,
      chunks: 1,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    const others = await h.http.get(`${API}/files`).set('Authorization', bob.auth);
    expect(others.body.items.map((f: FileBody) => f.id)).not.toEqual(expect.arrayContaining([ids[0]]));
  });

  it("is owner-only: another user's file is 404 on get, content and delete", async () => {
    const res = await upload(ada.auth, 'private.txt', 'only for ada');
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await settled(ada.auth, id);
    for (const req of [
      h.http.get(`${API}/files/${id}`),
      h.http.get(`${API}/files/${id}/content`),
      h.http.delete(`${API}/files/${id}`),
    ]) {
      expectProblem(await req.set('Authorization', bob.auth), 404, 'not_found');
    }
    expect((await h.http.get(`${API}/files/${id}`).set('Authorization', ada.auth)).status).toBe(200);
  });

  it('delete removes the object, the chunks and the row; audited', async () => {
    const res = await upload(ada.auth, 'doomed.md', '# Doomed\n\nThis file will be deleted.');
    const id = res.body.id as string;
    const file = await settled(ada.auth, id);
    expect(file.chunks).toBeGreaterThan(0);
    const key = objectKeyFor(ada.userId, id);
    expect(await h.store.stat(key)).toEqual({ size: res.body.size });

    const deleted = await h.http.delete(`${API}/files/${id}`).set('Authorization', ada.auth);
    expect(deleted.status).toBe(204);
    expect(await h.store.stat(key)).toBeNull();
    expect(await chunkContents(id)).toEqual([]);
    expect(await h.db.query('SELECT id FROM files WHERE id = ?', [id])).toEqual([]);
    expectProblem(await h.http.get(`${API}/files/${id}`).set('Authorization', ada.auth), 404, 'not_found');
    expect(await auditRows(h, 'file.deleted', id)).toEqual([
      { actorId: ada.userId, metadata: expect.objectContaining({ name: 'doomed.md' }) },
    ]);
    expectProblem(await h.http.delete(`${API}/files/${id}`).set('Authorization', ada.auth), 404, 'not_found');
  });

  it('delete while the upload still waits stops the ingest run', async () => {
    // The bytes are still arriving when the file is deleted: its run, waiting for the upload, is terminated (one
    // outcome, not a race with a run that already finished), and the upload that then ends gets 404.
    const name = `still-arriving-${Date.now()}.md`;
    const upload = startStreamingUpload(h.baseUrl, ada.auth, name, 'text/markdown');
    await upload.send(Buffer.from(`# Still arriving\n\n${'More words are on their way. '.repeat(400)}`));
    const listed = await waitFor(async () => {
      const list = await h.http.get(`${API}/files?limit=100`).set('Authorization', ada.auth);
      return (list.body.items as { id: string; name: string }[]).find((each) => each.name === name);
    }, 10_000);
    const id = listed.id;
    expect((await h.http.delete(`${API}/files/${id}`).set('Authorization', ada.auth)).status).toBe(204);
    const description = await waitFor(async () => {
      const described = await h.temporal.workflow.getHandle(ingestWorkflowId(id)).describe();
      return described.status.name === 'RUNNING' ? undefined : described;
    });
    expect(description.status.name).toBe('TERMINATED');
    const finished = await upload.finish();
    expect(finished.status).toBe(404);
    expect(await h.db.query('SELECT id FROM files WHERE id = ?', [id])).toEqual([]);
    expect(await h.store.stat(objectKeyFor(ada.userId, id))).toBeNull();
  });

  describe('refused uploads store nothing', () => {
    it('one byte over FILE_MAX_BYTES → 413 payload_too_large', async () => {
      const user = await freshUser('big');
      const exactly = await upload(user.auth, 'exact.txt', 'a'.repeat(MAX_BYTES));
      expect(exactly.status).toBe(202);
      expect(exactly.body.size).toBe(MAX_BYTES);
      expect((await h.http.delete(`${API}/files/${exactly.body.id}`).set('Authorization', user.auth)).status).toBe(204);

      const over = await upload(user.auth, 'over.txt', 'a'.repeat(MAX_BYTES + 1));
      expectProblem(over, 413, 'payload_too_large');
      expect(over.body.detail).toContain(String(MAX_BYTES));
      const far = await upload(user.auth, 'far-over.txt', 'b'.repeat(MAX_BYTES * 8));
      expectProblem(far, 413, 'payload_too_large');
      await expectNothingStored(user.userId);
    });

    it.each([
      ['an executable', 'tool.exe', Buffer.from([0x4d, 0x5a, 0x90, 0x00, 1, 2, 3]), 415, 'unsupported_media_type'],
      ['no extension', 'README', Buffer.from('text'), 415, 'unsupported_media_type'],
      [
        'a PNG named .txt',
        'photo.txt',
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
        415,
        'unsupported_media_type',
      ],
      ['text named .pdf', 'fake.pdf', Buffer.from('just text'), 415, 'unsupported_media_type'],
      ['an empty file', 'empty.txt', Buffer.alloc(0), 400, 'validation_failed'],
      ['a name of only dots', '..', Buffer.from('dots'), 400, 'validation_failed'],
      ['a name of only a path', '../../', Buffer.from('dots'), 400, 'validation_failed'],
    ] as const)('%s (%s)', async (_name, fileName, bytes, status, code) => {
      const user = await freshUser('refused');
      const res = await upload(user.auth, fileName, bytes);
      expectProblem(res, status, code, status === 400 ? ['file'] : undefined);
      await expectNothingStored(user.userId);
    });

    it('no multipart body, no file field, two files, an unknown field → 400 naming the field', async () => {
      const user = await freshUser('shapes');
      expectProblem(
        await h.http.post(`${API}/files`).set('Authorization', user.auth).send({ file: 'not a file' }),
        400,
        'validation_failed',
        ['file'],
      );
      expectProblem(await h.http.post(`${API}/files`).set('Authorization', user.auth), 400, 'validation_failed', [
        'file',
      ]);
      expectProblem(
        await h.http.post(`${API}/files`).set('Authorization', user.auth).field('note', 'hello'),
        400,
        'validation_failed',
        ['file', 'note'],
      );
      expectProblem(
        await h.http
          .post(`${API}/files`)
          .set('Authorization', user.auth)
          .attach('file', Buffer.from('one'), 'one.txt')
          .attach('file', Buffer.from('two'), 'two.txt'),
        400,
        'validation_failed',
        ['file'],
      );
      expectProblem(
        await h.http
          .post(`${API}/files`)
          .set('Authorization', user.auth)
          .attach('file', Buffer.from('one'), 'one.txt')
          .field('extra', 'x'),
        400,
        'validation_failed',
        ['extra'],
      );
      expectProblem(
        await h.http.post(`${API}/files`).set('Authorization', user.auth).attach('upload', Buffer.from('x'), 'x.txt'),
        400,
        'validation_failed',
        ['file', 'upload'],
      );
      await expectNothingStored(user.userId);
    });
  });

  it('cleans path tricks out of names; the storage key is made of ids only', async () => {
    for (const [given, kept] of [
      ['../../etc/passwd.txt', 'passwd.txt'],
      ['C:\\Users\\ada\\notes.md', 'notes.md'],
      ['spoof\u202Etxt.exe.txt', 'spooftxt.exe.txt'],
      ['Übersicht 2024.md', 'Übersicht 2024.md'],
    ] as const) {
      const res = await upload(ada.auth, given, 'harmless text');
      expect([res.status, res.body.name]).toEqual([202, kept]);
      const rows: { storage_key: string }[] = await h.db.query('SELECT storage_key FROM files WHERE id = ?', [
        res.body.id,
      ]);
      expect(rows[0]?.storage_key).toBe(objectKeyFor(ada.userId, res.body.id as string));
    }
    // A NUL (or any control character) that arrives percent-encoded in `filename*` (RFC 8187) is dropped.
    const encoded = await rawUpload(ada.auth, `filename*=UTF-8''bad%00na%0Ame%E2%80%AE.txt`, Buffer.from('ok'));
    expect([encoded.status, encoded.body.name]).toEqual([202, 'badname.txt']);
    // A raw NUL in the part's header is not a well-formed multipart body at all.
    const user = await freshUser('nul');
    expectProblem(
      await rawUpload(user.auth, 'filename="bad\u0000name.txt"', Buffer.from('x')),
      400,
      'validation_failed',
      ['file'],
    );
    await expectNothingStored(user.userId);
  });

  describe('documents that cannot be read end failed, with the reason', () => {
    it.each([
      ['a corrupt PDF', 'broken.pdf', () => Buffer.from('%PDF-1.7\nthis is not really a pdf\n%%EOF\n'), 'corrupt'],
      ['an encrypted PDF', 'secret.pdf', () => makePdf([['Top secret']], { userPassword: 'hunter2' }), 'encrypted'],
      [
        'a zip-bomb-like DOCX',
        'bomb.docx',
        () => makeDocx([{ text: 'Looks harmless' }], { 'word/media/padding.xml': Buffer.alloc(40 * 1024 * 1024) }),
        'too_large',
      ],
    ] as const)('%s → failed %s', async (_name, fileName, make, code) => {
      const bytes = await make();
      expect(bytes.length).toBeLessThanOrEqual(MAX_BYTES);
      const res = await upload(ada.auth, fileName, bytes);
      expect(res.status).toBe(202);
      const file = await settled(ada.auth, res.body.id as string);
      expect(file).toMatchObject({ status: 'failed', chunks: 0, error: { code, detail: expect.stringMatching(/\S/) } });
      expect(await chunkContents(file.id)).toEqual([]);
      // The run completed (a handled outcome), and said why.
      const result = await h.temporal.workflow.getHandle(ingestWorkflowId(file.id)).result();
      expect(result).toMatchObject({ status: 'failed', error: { code } });
      expect(await auditRows(h, 'file.ingest_failed', file.id)).toHaveLength(1);
      // The bytes are still there to download (and to delete).
      expect((await h.http.get(`${API}/files/${file.id}/content`).set('Authorization', ada.auth)).status).toBe(200);
    });
  });

  it('an upload that never finishes (the API died mid-upload) leaves nothing once the wait expires', async () => {
    const user = await freshUser('crash');
    const fileId = randomUUID();
    const key = objectKeyFor(user.userId, fileId);
    // What the API does before it dies: start the run, write the row, store (part of) the bytes. Never signal.
    const handle = await h.temporal.workflow.start(INGEST_FILE_WORKFLOW, {
      workflowId: ingestWorkflowId(fileId),
      taskQueue: h.config.temporal.ingestTaskQueue,
      args: [{ fileId, userId: user.userId, requestId: 'crash-test', uploadTimeoutMs: 2000 }],
    });
    await h.db.query(
      "INSERT INTO files (id, user_id, name, kind, mime_type, storage_key, status) VALUES (?, ?, 'half.txt', 'txt', 'text/plain', ?, 'uploading')",
      [fileId, user.userId, key],
    );
    await h.store.put(key, Readable.from([Buffer.from('half of the bytes')]), { maxBytes: MAX_BYTES });
    expect(await h.store.stat(key)).not.toBeNull();

    const result = (await handle.result()) as IngestResult;
    expect(result).toMatchObject({ status: 'abandoned', chunks: 0 });
    expect(await h.db.query('SELECT id FROM files WHERE id = ?', [fileId])).toEqual([]);
    expect(await h.store.stat(key)).toBeNull();
    await expectNothingStored(user.userId);
  });

  it('runs are searchable by UserId and TurnKind = "ingest"', async () => {
    const res = await upload(ada.auth, 'searchable.txt', 'find me in temporal');
    const id = res.body.id as string;
    await settled(ada.auth, id);
    const runs = await waitFor(async () => {
      const found: string[] = [];
      for await (const run of h.temporal.workflow.list({
        query: `UserId = "${ada.userId}" AND TurnKind = "ingest" AND WorkflowId = "${ingestWorkflowId(id)}"`,
      })) {
        found.push(run.workflowId);
      }
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toEqual([ingestWorkflowId(id)]);
  });
});

describe('files: the per-user rate limit (RATE_LIMIT_FILES_MAX)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('filesratelimit', { worker: false, fakeLlm: false, env: { RATE_LIMIT_FILES_MAX: '3' } });
  });
  afterAll(async () => h?.close());

  it('counts uploads, downloads and deletes per user and answers 429 with Retry-After past the limit', async () => {
    const ada = await signUp(h, 'ada');
    const bob = await signUp(h, 'bob');
    const statuses: number[] = [];
    for (const path of [`/files/${randomUUID()}/content`, `/files/${randomUUID()}/content`]) {
      const res = await h.http.get(`${API}${path}`).set('Authorization', ada.auth);
      statuses.push(res.status);
      expect(res.headers['ratelimit-limit']).toBe('3');
    }
    const deleted = await h.http.delete(`${API}/files/${randomUUID()}`).set('Authorization', ada.auth);
    statuses.push(deleted.status);
    expect(statuses).toEqual([404, 404, 404]);
    const refused = await h.http
      .post(`${API}/files`)
      .set('Authorization', ada.auth)
      .attach('file', Buffer.from('hello'), { filename: 'a.txt', contentType: 'text/plain' });
    expect([refused.status, refused.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await count(h, 'files')).toBe(0);
    // Reading metadata is not limited: a client polls GET /files/:id until the file is ready.
    for (let i = 0; i < 5; i++) {
      const polled = await h.http.get(`${API}/files/${randomUUID()}`).set('Authorization', ada.auth);
      expect(polled.status).toBe(404);
      expect(polled.headers['ratelimit-limit']).toBeUndefined();
    }
    expect((await h.http.get(`${API}/files/${randomUUID()}/content`).set('Authorization', bob.auth)).status).toBe(404);
  });
});
