import { Redis } from 'ioredis';
import { createScratchDatabase, insertFile, insertUser, type ScratchDatabase } from '../bench/support/scratch-database';
import { ChunkStore, chunkIdFor } from '#libs/retrieval/chunk-store';
import { RedisIndexVersions } from '#libs/retrieval/index-versions';
import { decodeVector } from '#libs/retrieval/vector-codec';
import { uniqueSuffix } from './support/test-env';

describe('ChunkStore (real MariaDB, real Redis)', () => {
  let scratch: ScratchDatabase;
  let redis: Redis;
  let versions: RedisIndexVersions;
  let store: ChunkStore;
  let userId: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase('retrieval_store');
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      keyPrefix: `gctest:retrieval:${uniqueSuffix()}:`,
    });
    versions = new RedisIndexVersions(redis);
    store = new ChunkStore(scratch.db, versions);
    userId = await insertUser(scratch.db, 'ada');
  });

  afterAll(async () => {
    const prefix = redis.options.keyPrefix ?? '';
    const keys = await redis.keys(`${prefix}*`); // KEYS patterns are not prefixed by ioredis
    if (prefix !== '' && keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
    await scratch.drop();
  });

  it('replaces a file’s chunks idempotently, with ids derived from file and seq, and bumps the version', async () => {
    const fileId = await insertFile(scratch.db, userId, 'notes.md');
    const before = await versions.current(userId);
    const chunks = Array.from({ length: 1203 }, (_, seq) => ({
      seq,
      heading: seq % 2 === 0 ? `Part ${seq}` : undefined,
      content: `chunk number ${seq} about ${seq % 3 === 0 ? 'glaciers' : 'volcanoes'}`,
      tokens: 6,
      embedding: new Float32Array([seq, 0.5, -1]),
    }));
    expect(await store.replaceFileChunks({ fileId, userId, chunks })).toBe(1203);
    expect(await store.replaceFileChunks({ fileId, userId, chunks })).toBe(1203);
    expect(await versions.current(userId)).toBe(before + 2);

    const rows: { id: string; seq: number; heading: string | null; embedding: Buffer }[] = await scratch.db.query(
      `SELECT c.id, c.seq, c.heading, v.embedding
         FROM file_chunks c LEFT JOIN file_chunk_vectors v ON v.chunk_id = c.id
        WHERE c.file_id = ? ORDER BY c.seq`,
      [fileId],
    );
    expect(rows).toHaveLength(1203);
    expect(rows[7]?.id).toBe(chunkIdFor(fileId, 7));
    expect(rows[7]?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rows[2]?.heading).toBe('Part 2');
    expect(rows[3]?.heading).toBeNull();
    expect([...decodeVector(rows[1200]!.embedding)]).toEqual([1200, 0.5, -1]);

    expect(await store.replaceFileChunks({ fileId, userId, chunks: chunks.slice(0, 2) })).toBe(2);
    const [{ n }] = await scratch.db.query('SELECT COUNT(*) AS n FROM file_chunks WHERE file_id = ?', [fileId]);
    expect(Number(n)).toBe(2);
    // The replaced chunks' vectors went with them.
    const [{ v }] = await scratch.db.query('SELECT COUNT(*) AS v FROM file_chunk_vectors WHERE file_id = ?', [fileId]);
    expect(Number(v)).toBe(2);
    expect(await store.deleteFileChunks(fileId, userId)).toBe(2);
    expect(await store.deleteFileChunks(fileId, userId)).toBe(0);
  });

  it('ingests and deletes one user’s files side by side without deadlocks', async () => {
    // Each round: four new files' chunks written at once, while an earlier file's chunks are deleted and another's
    // replaced. Range deletes here deadlocked (gap locks on the user's index against the other inserts' intentions).
    const chunksOf = (label: string) =>
      Array.from({ length: 40 }, (_, seq) => ({ seq, content: `${label} chunk ${seq}`, tokens: 3 }));
    const earlier = await insertFile(scratch.db, userId, 'earlier.md');
    await store.replaceFileChunks({ fileId: earlier, userId, chunks: chunksOf('earlier') });
    for (let round = 0; round < 12; round += 1) {
      const doomed = await insertFile(scratch.db, userId, `doomed-${round}.md`);
      await store.replaceFileChunks({ fileId: doomed, userId, chunks: chunksOf('doomed') });
      const fresh = await Promise.all([0, 1, 2, 3].map((n) => insertFile(scratch.db, userId, `new-${round}-${n}.md`)));
      const counts = await Promise.all([
        ...fresh.map((fileId) => store.replaceFileChunks({ fileId, userId, chunks: chunksOf(fileId) })),
        store.deleteFileChunks(doomed, userId),
        store.replaceFileChunks({ fileId: earlier, userId, chunks: chunksOf(`earlier ${round}`) }),
      ]);
      expect(counts).toEqual([40, 40, 40, 40, 40, 40]);
    }
  });

  it('stores chunk text exactly through prepared statements: quotes, backslashes, NUL, emoji, any batch size', async () => {
    const fileId = await insertFile(scratch.db, userId, 'tricky.md');
    const tricky = (seq: number) => `it's a "quote" \\ back\\slash; -- not SQL ' OR 1=1 \u0000 nul 😀 ${seq}`;
    // 777 rows: sent as statements of 512, 256, 8 and 1 rows.
    const chunks = Array.from({ length: 777 }, (_, seq) => ({
      seq,
      content: tricky(seq),
      tokens: 9,
      heading: `H'${seq}`,
    }));
    const prepared = async () =>
      Number((await scratch.db.query("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'"))[0].Value as string);
    const executedBefore = await prepared();
    expect(await store.replaceFileChunks({ fileId, userId, chunks })).toBe(777);
    expect((await prepared()) - executedBefore).toBeGreaterThanOrEqual(4);
    const rows: { seq: number; content: string; heading: string }[] = await scratch.db.query(
      'SELECT seq, content, heading FROM file_chunks WHERE file_id = ? ORDER BY seq',
      [fileId],
    );
    expect(rows.map((row) => [row.seq, row.content, row.heading])).toEqual(
      chunks.map((chunk) => [chunk.seq, chunk.content, chunk.heading]),
    );
  });

  it('counts and reads a file’s chunks after a seq, in order and owner-scoped (where embedding resumes)', async () => {
    const other = await insertUser(scratch.db, 'mallory');
    const fileId = await insertFile(scratch.db, userId, 'batches.md', 'processing');
    const chunks = [4, 0, 3, 1, 2].map((seq) => ({ seq, content: `part ${seq}`, tokens: 2 }));
    await store.replaceFileChunks({ fileId, userId, chunks });

    expect(await store.countFileChunks(fileId, userId)).toBe(5);
    expect(await store.countFileChunks(fileId, userId, 2)).toBe(2);
    expect(await store.countFileChunks(fileId, other)).toBe(0);
    expect(await store.chunksAfter(fileId, userId, -1, 2)).toEqual([
      { seq: 0, content: 'part 0' },
      { seq: 1, content: 'part 1' },
    ]);
    expect(await store.chunksAfter(fileId, userId, 1, 10)).toEqual([
      { seq: 2, content: 'part 2' },
      { seq: 3, content: 'part 3' },
      { seq: 4, content: 'part 4' },
    ]);
    expect(await store.chunksAfter(fileId, userId, 4, 10)).toEqual([]);
    expect(await store.chunksAfter(fileId, other, -1, 10)).toEqual([]);
  });

  it('searches lexically with operators stripped, owner-scoped, ready files only and restricted by fileIds', async () => {
    const other = await insertUser(scratch.db, 'eve');
    const ready = await insertFile(scratch.db, userId, 'ready.md');
    const second = await insertFile(scratch.db, userId, 'second.md');
    const pending = await insertFile(scratch.db, userId, 'pending.md', 'processing');
    const foreign = await insertFile(scratch.db, other, 'foreign.md');
    const text = 'The quarterly invoice reconciliation for the Lisbon office';
    for (const fileId of [ready, second, pending]) {
      await store.replaceFileChunks({ fileId, userId, chunks: [{ seq: 0, content: text, tokens: 9 }] });
    }
    await store.replaceFileChunks({ fileId: foreign, userId: other, chunks: [{ seq: 0, content: text, tokens: 9 }] });

    const hits = await store.lexicalSearch(userId, '+invoice -"Lisbon" (reconciliation*) @3 ~office', { limit: 10 });
    expect(hits.map((hit) => hit.fileName).sort()).toEqual(['ready.md', 'second.md']);
    expect(hits[0]).toMatchObject({ seq: 0, heading: null, content: text });
    expect(hits[0]!.score).toBeGreaterThan(0);

    const restricted = await store.lexicalSearch(userId, 'invoice', { limit: 10, fileIds: [second, foreign] });
    expect(restricted.map((hit) => hit.fileId)).toEqual([second]);
    expect(await store.lexicalSearch(userId, 'invoice', { limit: 10, fileIds: [] })).toEqual([]);
    expect(await store.lexicalSearch(userId, '+ - " ( ) ~ * a b', { limit: 10 })).toEqual([]);
    expect(await store.lexicalSearch(userId, "'; DROP TABLE files; --", { limit: 10 })).toEqual([]);

    const byId = await store.getChunks(
      [chunkIdFor(foreign, 0), chunkIdFor(second, 0), chunkIdFor(pending, 0), chunkIdFor(ready, 0)],
      userId,
    );
    expect(byId.map((hit) => hit.fileName)).toEqual(['second.md', 'ready.md']);
  });
});
