import { ApplicationFailure, asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { noopMetricMeter } from '@temporalio/common';
import { Readable } from 'node:stream';
import type { DataSource, FindOperator } from 'typeorm';
import { FileChunkEntity } from '#libs/db/entities/file-chunk.entity';
import { FileEntity } from '#libs/db/entities/file.entity';
import { createLogger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import { EmbeddingError } from '#libs/retrieval/embedding-client';
import { decodeVector, encodeVector } from '#libs/retrieval/vector-codec';
import type { ObjectStore } from '#libs/storage/object-store';
import { createIngestActivities, readAll, type Embedder } from './ingest.activities';

const FILE = {
  fileId: '6f1c1f0e-7d7a-4c2b-9a55-0d4b3c2a1f00',
  userId: 'a3c5e7f9-1b2d-4e6f-8a0b-1c2d3e4f5a6b',
  requestId: 'r1',
};

interface ChunkRow {
  id: string;
  fileId: string;
  userId: string;
  seq: number;
  content: string;
  embedding: Buffer | null;
}

/** Just enough of a TypeORM DataSource for the activities: chunks and the file row, in memory. */
function fakeDb(chunks: ChunkRow[], file?: Partial<FileEntity>) {
  const fileUpdates: Record<string, unknown>[] = [];
  const after = (where: Record<string, unknown>) => (row: ChunkRow) =>
    row.fileId === where.fileId &&
    (where.userId === undefined || row.userId === where.userId) &&
    (where.seq === undefined || row.seq > (where.seq as FindOperator<number>).value);
  const chunkRepo = {
    countBy: (where: Record<string, unknown>) => Promise.resolve(chunks.filter(after(where)).length),
    find: (options: { where: Record<string, unknown>; take: number }) =>
      Promise.resolve(
        chunks
          .filter(after(options.where))
          .sort((a, b) => a.seq - b.seq)
          .slice(0, options.take),
      ),
  };
  const fileRepo = {
    findOneBy: () => Promise.resolve(file ? Object.assign(new FileEntity(), file) : null),
    update: (_where: unknown, values: Record<string, unknown>) => {
      fileUpdates.push(values);
      return Promise.resolve({ affected: 1 });
    },
  };
  const manager = {
    getRepository: (entity: unknown) => (entity === FileChunkEntity ? chunkRepo : fileRepo),
  };
  const db = {
    ...manager,
    transaction: <T>(work: (tx: typeof manager) => Promise<T>) => work(manager),
  } as unknown as DataSource;
  return { db, fileUpdates };
}

function rows(count: number): ChunkRow[] {
  return Array.from({ length: count }, (_, seq) => ({
    id: `chunk-${seq}`,
    fileId: FILE.fileId,
    userId: FILE.userId,
    seq,
    content: `text ${seq}`,
    embedding: null,
  }));
}

/** Runs `fn` as an activity would run, with these heartbeat details from an earlier attempt. */
async function inActivity<T>(
  fn: () => Promise<T>,
  heartbeatDetails?: unknown,
): Promise<{ result: T; beats: unknown[] }> {
  const beats: unknown[] = [];
  const info = { attempt: heartbeatDetails === undefined ? 1 : 2, heartbeatDetails } as unknown as Info;
  const context = new (Context as unknown as new (...args: unknown[]) => Context)(
    info,
    new Promise<never>(() => undefined),
    new AbortController().signal,
    (details: unknown) => beats.push(details),
    undefined,
    {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
    noopMetricMeter,
    {},
  );
  const result = await asyncLocalStorage.run(context, fn);
  return { result, beats };
}

function activities(
  db: DataSource,
  options: { embedder?: Embedder; store?: Partial<ObjectStore>; batchSize?: number; rows?: ChunkRow[] } = {},
) {
  // Vectors land on the fake rows, as ChunkStore.storeVectors writes them by (file, seq).
  const storeVectors = (fileId: string, _userId: string, vectors: { seq: number; embedding: Float32Array }[]) => {
    for (const vector of vectors) {
      const row = options.rows?.find((candidate) => candidate.fileId === fileId && candidate.seq === vector.seq);
      if (row) row.embedding = encodeVector(vector.embedding);
    }
    return Promise.resolve();
  };
  return createIngestActivities({
    db,
    store: (options.store ?? {}) as ObjectStore,
    chunks: { replaceFileChunks: jest.fn(), deleteFileChunks: jest.fn(), storeVectors } as unknown as ChunkStore,
    logger: createLogger({ level: 'silent', name: 'ingest-spec' }),
    maxBytes: 1024,
    chunkTokens: 100,
    chunkOverlapTokens: 10,
    ...(options.embedder
      ? { embeddings: { client: options.embedder, model: 'fake-embed', batchSize: options.batchSize ?? 2 } }
      : {}),
  });
}

/** An embedder whose vector for a text is [its length, its position in the call]. */
function recordingEmbedder(): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    embed: (texts) => {
      calls.push(texts);
      return Promise.resolve(texts.map((text, index) => new Float32Array([text.length, index])));
    },
  };
}

describe('ingest activities', () => {
  describe('embedChunks', () => {
    it('is skipped, and says so, without an embedding provider', async () => {
      const { db } = fakeDb(rows(3));
      const { result } = await inActivity(() => activities(db).embedChunks(FILE));
      expect(result).toEqual({ skipped: true, embedded: 0 });
    });

    it('embeds in batches in seq order, stores float32 vectors and heartbeats the last seq of each batch', async () => {
      const chunks = rows(5);
      const { db, fileUpdates } = fakeDb(chunks);
      const embedder = recordingEmbedder();
      const { result, beats } = await inActivity(() => activities(db, { embedder, rows: chunks }).embedChunks(FILE));
      expect(result).toEqual({ skipped: false, embedded: 5, model: 'fake-embed' });
      expect(embedder.calls).toEqual([['text 0', 'text 1'], ['text 2', 'text 3'], ['text 4']]);
      expect(beats).toEqual([{ lastSeq: 1 }, { lastSeq: 3 }, { lastSeq: 4 }]);
      expect(chunks.map((chunk) => Array.from(decodeVector(chunk.embedding!)))).toEqual([
        [6, 0],
        [6, 1],
        [6, 0],
        [6, 1],
        [6, 0],
      ]);
      // Progress climbs from 50 towards 90 as batches land.
      const progress = fileUpdates.map((update) => update.progress);
      expect(progress).toEqual([50, 66, 82, 90]);
    });

    it('resumes after the last batch a previous attempt stored', async () => {
      const { db } = fakeDb(rows(5));
      const embedder = recordingEmbedder();
      const { result, beats } = await inActivity(() => activities(db, { embedder }).embedChunks(FILE), { lastSeq: 1 });
      expect(embedder.calls).toEqual([['text 2', 'text 3'], ['text 4']]);
      expect(beats).toEqual([{ lastSeq: 3 }, { lastSeq: 4 }]);
      expect(result.embedded).toBe(5);
    });

    it.each([
      ['embedding_auth', new EmbeddingError('embedding_auth', 'bad key', false, 401), true],
      ['embedding_rate_limited', new EmbeddingError('embedding_rate_limited', 'slow down', true, 429), false],
    ] as const)(
      'turns %s into an embedding_failed failure, retried only when the provider says so',
      async (_code, error, nonRetryable) => {
        const { db } = fakeDb(rows(2));
        const embedder: Embedder = { embed: () => Promise.reject(error) };
        const failure = await inActivity(() => activities(db, { embedder }).embedChunks(FILE)).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(ApplicationFailure);
        expect(failure).toMatchObject({ type: 'embedding_failed', nonRetryable, message: error.message });
      },
    );
  });

  describe('extractAndChunk', () => {
    it('fails for good with the DocumentError code when the document cannot be read', async () => {
      const { db } = fakeDb([], { id: FILE.fileId, userId: FILE.userId, kind: 'docx', storageKey: 'k' });
      const store = { get: () => Promise.resolve(Readable.from([Buffer.from('PK\u0003\u0004 not a zip at all')])) };
      const failure = await inActivity(() => activities(db, { store }).extractAndChunk(FILE)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'corrupt', nonRetryable: true });
    });

    it('reports a file that no longer exists as file_gone, never retried', async () => {
      const { db } = fakeDb([]);
      const failure = await inActivity(() => activities(db).extractAndChunk(FILE)).catch((e: unknown) => e);
      expect(failure).toMatchObject({ type: 'file_gone', nonRetryable: true });
    });
  });

  describe('readAll', () => {
    it('reads a stream within the limit whole', async () => {
      const data = await readAll(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 6);
      expect(data.toString()).toBe('abcdef');
    });

    it('refuses a stream over the limit as too_large', async () => {
      await expect(readAll(Readable.from([Buffer.from('abcd'), Buffer.from('efg')]), 6)).rejects.toMatchObject({
        type: 'too_large',
        nonRetryable: true,
      });
    });
  });
});
