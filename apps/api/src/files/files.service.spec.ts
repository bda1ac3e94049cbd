import { Readable } from 'node:stream';
import type { FileInfo } from 'busboy';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { AppConfig } from '#libs/config/app-config';
import type { Database, Repositories } from '#libs/db/database';
import type { FieldProblem } from '#libs/errors/app-error';
import { createLogger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import { objectKeyFor } from '#libs/storage/object-store';
import { InMemoryAuditLogRepository } from '#libs/db/testing/in-memory-audit-log.repository';
import { InMemoryChunkStore } from '#libs/retrieval/testing/in-memory-chunk-store';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { InMemoryObjectStore } from '#libs/storage/testing/in-memory-object-store';
import type { Principal } from '../auth/principal';
import type { FileView } from './file.view';
import { FilesService } from './files.service';
import type { IngestRunner } from './ingest-runner';
import type { MultipartFileReader } from './multipart-file';

const MAX_BYTES = 64;
const ADA: Principal = {
  userId: 'a3c5e7f9-1b2d-4e6f-8a0b-1c2d3e4f5a6b',
  sessionId: 's1',
  role: 'user',
  scopes: ['files:read', 'files:write'],
  kind: 'session',
};
const BOB: Principal = { ...ADA, userId: '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b' };
const CLIENT = { ip: '127.0.0.1', userAgent: 'spec', requestId: 'req-1' };

interface FilePart {
  name: string;
  bytes: Buffer;
  /** Busboy's mark of a part cut off at its size limit. */
  truncated?: boolean;
}

/**
 * A multipart body as the controller's reader hands it over: the file part (if any) goes to the service's handler
 * while the "body streams", then the outcome is reported with whatever else was wrong with the body.
 */
function form(part: FilePart | undefined, problems: FieldProblem[] = []): MultipartFileReader {
  return async <T>(
    options: { field: string },
    onFile: (stream: Readable & { truncated?: boolean }, info: FileInfo) => Promise<T>,
  ) => {
    if (!part) return { problems: [...problems, { field: options.field, message: 'is required' }] };
    const stream = Readable.from(part.bytes.length > 0 ? [part.bytes] : [], { objectMode: false });
    const info = { filename: part.name, encoding: '7bit', mimeType: 'application/octet-stream' };
    try {
      const received = await onFile(Object.assign(stream, { truncated: part.truncated ?? false }), info);
      return { received, problems };
    } catch (failure) {
      return { failure, problems };
    }
  };
}

function setup() {
  const files = new InMemoryFileRepository();
  const audit = new InMemoryAuditLogRepository();
  const repos = { files, audit } as unknown as Repositories;
  const db: Database = { ...repos, transaction: (work) => work(repos), ping: () => Promise.resolve() };
  const store = new InMemoryObjectStore();
  const chunks = new InMemoryChunkStore();
  const ingest = {
    start: jest.fn((_input: { fileId: string; userId: string; requestId: string }, _name: string) => Promise.resolve()),
    uploadFinished: jest.fn((_fileId: string, _upload: { size: number; sha256: string }) => Promise.resolve()),
    uploadFailed: jest.fn((_fileId: string, _failure: { reason: string }) => Promise.resolve(true)),
    terminate: jest.fn((_fileId: string, _reason: string) => Promise.resolve()),
  };
  const config = { files: { maxBytes: MAX_BYTES } } as AppConfig;
  const service = new FilesService(
    db,
    config,
    store,
    createLogger({ level: 'silent', name: 'files-spec' }),
    chunks as unknown as ChunkStore,
    ingest as unknown as IngestRunner,
    new AuditWriter(db),
  );
  /** The upload's file id, from the run it started. */
  const startedId = (): string => ingest.start.mock.calls[0]![0].fileId;
  return { files, audit, store, chunks, ingest, service, startedId };
}

type Setup = ReturnType<typeof setup>;

/** Nothing of the upload is left, and its run (if one was started) was told the upload failed. */
function expectNothingLeft(s: Setup): void {
  expect(s.files.rows.size).toBe(0);
  expect(s.store.objects.size).toBe(0);
  expect(s.ingest.uploadFinished).not.toHaveBeenCalled();
  for (const [input] of s.ingest.start.mock.calls) {
    expect(s.ingest.uploadFailed).toHaveBeenCalledWith(input.fileId, { reason: expect.any(String) });
  }
}

describe('FilesService', () => {
  describe('upload', () => {
    it('starts the run, stores row and bytes, tells the run the upload finished, and shows the file processing', async () => {
      const s = setup();
      const view = await s.service.upload(ADA, 'req-1', form({ name: 'notes.txt', bytes: Buffer.from('hello files') }));

      const id = s.startedId();
      expect(s.ingest.start).toHaveBeenCalledWith({ fileId: id, userId: ADA.userId, requestId: 'req-1' }, 'notes.txt');
      expect(view).toMatchObject<Partial<FileView>>({
        id,
        name: 'notes.txt',
        kind: 'txt',
        mimeType: 'text/plain',
        size: 11,
        status: 'processing',
        chunks: 0,
      });
      expect(s.files.rows.get(id)).toMatchObject({ status: 'processing', size: 11, userId: ADA.userId });
      expect(s.store.objects.get(objectKeyFor(ADA.userId, id))?.toString()).toBe('hello files');
      expect(s.ingest.uploadFinished).toHaveBeenCalledWith(id, {
        size: 11,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(s.ingest.uploadFailed).not.toHaveBeenCalled();
    });

    it('cleans the name of path tricks; the storage key is made of ids only', async () => {
      const s = setup();
      const view = await s.service.upload(ADA, 'r', form({ name: '../../etc/passwd.txt', bytes: Buffer.from('x') }));
      expect(view.name).toBe('passwd.txt');
      expect(s.files.rows.get(view.id)?.storageKey).toBe(objectKeyFor(ADA.userId, view.id));
    });

    it.each([
      ['an executable', 'tool.exe', Buffer.from([0x4d, 0x5a, 0x90, 0x00, 1, 2, 3]), 'unsupported_media_type'],
      [
        'a PNG named .txt',
        'photo.txt',
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        'unsupported_media_type',
      ],
      ['text named .pdf', 'fake.pdf', Buffer.from('just text'), 'unsupported_media_type'],
      ['an empty file', 'empty.txt', Buffer.alloc(0), 'validation_failed'],
      ['a name of only dots', '..', Buffer.from('dots'), 'validation_failed'],
    ] as const)('refuses %s before anything is started or stored (%s)', async (_what, name, bytes, code) => {
      const s = setup();
      const failure = await s.service.upload(ADA, 'r', form({ name, bytes })).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code });
      if (code === 'validation_failed') expect(failure).toMatchObject({ extra: { errors: [{ field: 'file' }] } });
      else expect(failure).toMatchObject({ extra: { allowed: expect.arrayContaining(['pdf', 'txt']) } });
      expect(s.ingest.start).not.toHaveBeenCalled();
      expectNothingLeft(s);
    });

    it('refuses a file over the limit as payload_too_large: row and object removed, the run told', async () => {
      const s = setup();
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'big.txt', bytes: Buffer.alloc(MAX_BYTES + 1, 'a') }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'payload_too_large', extra: { maxBytes: MAX_BYTES } });
      expect(s.ingest.start).toHaveBeenCalledTimes(1);
      expectNothingLeft(s);
    });

    it('refuses a part the reader cut off at its limit as payload_too_large, leaving nothing', async () => {
      const s = setup();
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'cut.txt', bytes: Buffer.from('the first bytes'), truncated: true }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'payload_too_large' });
      expectNothingLeft(s);
    });

    it('undoes a stored file when the rest of the body is not valid, naming the fields', async () => {
      const s = setup();
      const problems = [{ field: 'extra', message: 'is not a known field' }];
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'one.txt', bytes: Buffer.from('one') }, problems))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'validation_failed', extra: { errors: problems } });
      expect(s.ingest.uploadFailed).toHaveBeenCalledWith(s.startedId(), { reason: 'the upload request was not valid' });
      expectNothingLeft(s);
    });

    it('refuses a body without a file part as validation_failed on file', async () => {
      const s = setup();
      const failure = await s.service.upload(ADA, 'r', form(undefined)).catch((error: unknown) => error);
      expect(failure).toMatchObject({
        code: 'validation_failed',
        extra: { errors: [{ field: 'file', message: 'is required' }] },
      });
      expect(s.ingest.start).not.toHaveBeenCalled();
      expectNothingLeft(s);
    });

    it('answers service_unavailable, writing nothing, when the run cannot be started', async () => {
      const s = setup();
      s.ingest.start.mockRejectedValue(new Error('temporal is down'));
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'a.txt', bytes: Buffer.from('a') }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'service_unavailable' });
      expect(s.files.rows.size + s.store.objects.size).toBe(0);
    });

    it('answers service_unavailable when the run cannot be told the upload finished: row and object removed', async () => {
      const s = setup();
      s.ingest.uploadFinished.mockRejectedValue(new Error('temporal is down'));
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'a.txt', bytes: Buffer.from('a') }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'service_unavailable' });
      expect([s.files.rows.size, s.store.objects.size]).toEqual([0, 0]);
      expect(s.ingest.uploadFailed).toHaveBeenCalledWith(s.startedId(), {
        reason: 'the ingest run could not be reached',
      });
    });

    it('answers not_found when the file was deleted while its bytes arrived, removing the late object', async () => {
      const s = setup();
      // The delete lands between the row being written and the store finishing.
      const put = s.store.put.bind(s.store);
      jest.spyOn(s.store, 'put').mockImplementation(async (key, body, opts) => {
        s.files.rows.clear();
        return put(key, body, opts);
      });
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'a.txt', bytes: Buffer.from('a') }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'not_found' });
      expect(s.store.objects.size).toBe(0);
      expect(s.ingest.uploadFailed).toHaveBeenCalledWith(s.startedId(), {
        reason: 'the file was deleted during its upload',
      });
    });

    it('removes the row and tells the run when the object cannot be removed (the run removes it later)', async () => {
      const s = setup();
      jest.spyOn(s.store, 'delete').mockRejectedValue(new Error('s3 is down'));
      const failure = await s.service
        .upload(ADA, 'r', form({ name: 'big.txt', bytes: Buffer.alloc(MAX_BYTES + 1, 'a') }))
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'payload_too_large' });
      expect(s.files.rows.size).toBe(0);
      expect(s.ingest.uploadFailed).toHaveBeenCalledWith(s.startedId(), { reason: expect.any(String) });
    });
  });

  describe('list and get', () => {
    it("lists the caller's own files newest first, with a cursor to the next page", async () => {
      const s = setup();
      const ids = [
        '11111111-1111-4111-8111-111111111111',
        '22222222-2222-4222-8222-222222222222',
        '33333333-3333-4333-8333-333333333333',
      ];
      for (const id of ids) s.files.seed({ id, userId: ADA.userId, status: 'ready' });
      s.files.seed({ id: '44444444-4444-4444-8444-444444444444', userId: BOB.userId, status: 'ready' });

      const first = await s.service.list(ADA, { limit: 2 });
      expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await s.service.list(ADA, { limit: 2, cursor: first.nextCursor! });
      expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    });

    it('refuses a cursor it did not hand out', async () => {
      const s = setup();
      await expect(s.service.list(ADA, { cursor: 'not-a-cursor' })).rejects.toMatchObject({
        code: 'validation_failed',
        extra: { errors: [{ field: 'cursor' }] },
      });
    });

    it("shows an uploading file as processing, and another user's file as not found", async () => {
      const s = setup();
      const id = '11111111-1111-4111-8111-111111111111';
      s.files.seed({ id, userId: ADA.userId, status: 'uploading' });
      expect(await s.service.get(ADA, id)).toMatchObject({ id, status: 'processing' });
      await expect(s.service.get(BOB, id)).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('content', () => {
    const ID = '11111111-1111-4111-8111-111111111111';

    it.each([
      ['txt', 'text/plain', 'text/plain; charset=utf-8'],
      ['pdf', 'application/pdf', 'application/pdf'],
    ] as const)('types a %s file as its row says', async (kind, mimeType, contentType) => {
      const s = setup();
      s.files.seed({ id: ID, userId: ADA.userId, kind, mimeType, name: `a.${kind}`, size: 5, status: 'ready' });
      s.store.objects.set(objectKeyFor(ADA.userId, ID), Buffer.from('bytes'));
      const content = await s.service.content(ADA, ID);
      expect(content).toMatchObject({ fileId: ID, name: `a.${kind}`, size: 5, contentType });
      const parts: Buffer[] = [];
      for await (const part of content.body) parts.push(part as Buffer);
      expect(Buffer.concat(parts).toString()).toBe('bytes');
    });

    it('is not found while the file is still uploading, when its object is gone, or for another user', async () => {
      const s = setup();
      s.files.seed({ id: ID, userId: ADA.userId, status: 'uploading' });
      s.store.objects.set(objectKeyFor(ADA.userId, ID), Buffer.from('bytes'));
      await expect(s.service.content(ADA, ID)).rejects.toMatchObject({ code: 'not_found' });
      s.files.rows.get(ID)!.status = 'ready';
      await expect(s.service.content(BOB, ID)).rejects.toMatchObject({ code: 'not_found' });
      s.store.objects.clear();
      await expect(s.service.content(ADA, ID)).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('delete', () => {
    const ID = '11111111-1111-4111-8111-111111111111';

    function withReadyFile(): Setup {
      const s = setup();
      s.files.seed({ id: ID, userId: ADA.userId, name: 'doomed.md', size: 5, status: 'ready' });
      s.store.objects.set(objectKeyFor(ADA.userId, ID), Buffer.from('bytes'));
      s.chunks.seed(ID, ADA.userId, 3);
      return s;
    }

    it('stops the run, removes object, chunks and row, and audits who did it from where', async () => {
      const s = withReadyFile();
      await s.service.delete(ADA, ID, CLIENT);
      expect(s.ingest.terminate).toHaveBeenCalledWith(ID, 'the file was deleted');
      expect([s.files.rows.size, s.store.objects.size, s.chunks.chunks.length]).toEqual([0, 0, 0]);
      expect(s.audit.rows).toEqual([
        {
          actorId: ADA.userId,
          action: 'file.deleted',
          targetType: 'file',
          targetId: ID,
          metadata: { name: 'doomed.md', size: 5, status: 'ready' },
          ip: '127.0.0.1',
          userAgent: 'spec',
          requestId: 'req-1',
        },
      ]);
    });

    it("is not found for another user's file, and touches nothing", async () => {
      const s = withReadyFile();
      await expect(s.service.delete(BOB, ID, CLIENT)).rejects.toMatchObject({ code: 'not_found' });
      expect(s.ingest.terminate).not.toHaveBeenCalled();
      expect([s.files.rows.size, s.store.objects.size, s.chunks.chunks.length]).toEqual([1, 1, 3]);
      expect(s.audit.rows).toEqual([]);
    });

    it('answers service_unavailable and removes nothing when the run cannot be stopped', async () => {
      const s = withReadyFile();
      s.ingest.terminate.mockRejectedValue(new Error('temporal is down'));
      await expect(s.service.delete(ADA, ID, CLIENT)).rejects.toMatchObject({ code: 'service_unavailable' });
      expect([s.files.rows.size, s.store.objects.size, s.chunks.chunks.length]).toEqual([1, 1, 3]);
    });
  });
});
