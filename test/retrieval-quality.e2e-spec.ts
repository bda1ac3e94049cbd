import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import {
  createScratchDatabase,
  insertFile,
  insertUser,
  setFileStatus,
  type ScratchDatabase,
} from '../bench/support/scratch-database';
import { ChunkStore, chunkIdFor, type NewChunk } from '#libs/retrieval/chunk-store';
import { EmbeddingClient } from '#libs/retrieval/embedding-client';
import { HybridRetriever } from '#libs/retrieval/hybrid-retriever';
import { RedisIndexVersions, versionKey } from '#libs/retrieval/index-versions';
import { encodeVector } from '#libs/retrieval/vector-codec';
import { VectorIndex } from '#libs/retrieval/vector-index';
import { startFakeEmbeddings, type FakeEmbeddings } from './fakes/fake-embeddings.server';
import { uniqueSuffix } from './support/test-env';

const FIXTURES = resolve(__dirname, 'fixtures/retrieval');
const TOP_K = 5;
/**
 * Measured with this corpus and the fake embedder: lexical 0.633, hybrid 1.000 (the line the test prints). The fake's
 * synonym table was written for this corpus, so the floor guards against regressions in fusion, not model quality.
 */
const HYBRID_RECALL_FLOOR = 0.9;

interface LabelledQuery {
  kind: 'keyword' | 'paraphrase';
  query: string;
  relevant: string[];
}

/** Paragraph chunks, each prefixed with the document's title so a passage keeps its subject. */
function paragraphChunks(markdown: string): Omit<NewChunk, 'embedding'>[] {
  const blocks = markdown.split(/\n\s*\n/).map((block) => block.trim());
  const title = (blocks[0] ?? '').replace(/^#\s*/, '');
  const chunks: Omit<NewChunk, 'embedding'>[] = [];
  let heading = title;
  for (const block of blocks.slice(1)) {
    const lines = block.split('\n');
    if (/^#+\s/.test(lines[0] ?? '')) heading = lines.shift()!.replace(/^#+\s*/, '');
    const body = lines.join('\n').trim();
    if (body === '') continue;
    const content = `${title}\n\n${body}`;
    chunks.push({ seq: chunks.length, heading, content, tokens: content.split(/\s+/).length });
  }
  return chunks;
}

describe('retrieval quality and isolation (real MariaDB + Redis, fake embeddings over HTTP)', () => {
  let scratch: ScratchDatabase;
  let redis: Redis;
  let fake: FakeEmbeddings;
  let store: ChunkStore;
  let vectors: VectorIndex;
  let embeddings: EmbeddingClient;
  let hybrid: HybridRetriever;
  let lexicalOnly: HybridRetriever;
  let userId: string;
  const fileIdByName = new Map<string, string>();

  async function ingest(owner: string, name: string, markdown: string, status: 'ready' | 'processing' = 'ready') {
    const fileId = await insertFile(scratch.db, owner, name, 'processing');
    const pieces = paragraphChunks(markdown);
    const vectorsOf = await embeddings.embed(pieces.map((piece) => piece.content));
    await store.replaceFileChunks({
      fileId,
      userId: owner,
      chunks: pieces.map((piece, index) => ({ ...piece, embedding: vectorsOf[index] })),
    });
    if (status === 'ready') await setFileStatus(scratch.db, fileId, 'ready');
    return fileId;
  }

  beforeAll(async () => {
    scratch = await createScratchDatabase('retrieval_quality');
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      keyPrefix: `gctest:retrieval-quality:${uniqueSuffix()}:`,
    });
    fake = await startFakeEmbeddings();
    const versions = new RedisIndexVersions(redis);
    store = new ChunkStore(scratch.db, versions);
    // Fresh answers right after each write keep these tests deterministic; the default (stale while reloading) has a
    // test of its own below.
    vectors = new VectorIndex(scratch.db, versions, { staleWhileReloading: false });
    embeddings = new EmbeddingClient({
      baseUrl: fake.url,
      apiKey: 'sk-test-secret',
      model: 'fake-embed',
      dimensions: 384,
      timeoutMs: 5000,
    });
    hybrid = new HybridRetriever({ chunks: store, vectors, embeddings });
    lexicalOnly = new HybridRetriever({ chunks: store });
    userId = await insertUser(scratch.db, 'ada');
    for (const name of readdirSync(resolve(FIXTURES, 'corpus')).sort()) {
      fileIdByName.set(name, await ingest(userId, name, readFileSync(resolve(FIXTURES, 'corpus', name), 'utf8')));
    }
  });

  afterAll(async () => {
    // `keys` answers full names; the prefixed client would prefix them again, so strip it before deleting.
    const prefix = redis.options.keyPrefix ?? '';
    const keys = await redis.keys(`${prefix}*`); // KEYS patterns are not prefixed by ioredis
    const own = keys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
    if (prefix !== '' && own.length > 0) await redis.del(...own);
    redis.disconnect();
    await fake?.close();
    await scratch?.drop();
  });

  it('hybrid recall@5 beats lexical-only on the labelled queries', async () => {
    const queries = JSON.parse(readFileSync(resolve(FIXTURES, 'queries.json'), 'utf8')) as LabelledQuery[];
    const recall = { lexical: new Map<string, number[]>(), hybrid: new Map<string, number[]>() };
    for (const labelled of queries) {
      for (const [mode, retriever] of [
        ['lexical', lexicalOnly],
        ['hybrid', hybrid],
      ] as const) {
        const result = await retriever.search(userId, labelled.query, { topK: TOP_K });
        expect(result.mode).toBe(mode);
        const found = new Set(result.chunks.map((chunk) => chunk.fileName));
        const score = labelled.relevant.filter((name) => found.has(name)).length / labelled.relevant.length;
        for (const bucket of [labelled.kind, 'all']) {
          recall[mode].set(bucket, [...(recall[mode].get(bucket) ?? []), score]);
        }
      }
    }
    const mean = (values: number[] = []) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
    const row = (mode: 'lexical' | 'hybrid') =>
      ['keyword', 'paraphrase', 'all'].map((bucket) => mean(recall[mode].get(bucket)).toFixed(3)).join(' | ');
    console.log(
      `recall@${TOP_K} (${queries.length} queries) keyword | paraphrase | all — lexical: ${row('lexical')}; hybrid: ${row('hybrid')}`,
    );
    const lexicalAll = mean(recall.lexical.get('all'));
    const hybridAll = mean(recall.hybrid.get('all'));
    expect(hybridAll).toBeGreaterThanOrEqual(lexicalAll);
    expect(mean(recall.hybrid.get('keyword'))).toBeGreaterThanOrEqual(mean(recall.lexical.get('keyword')));
    expect(hybridAll).toBeGreaterThanOrEqual(HYBRID_RECALL_FLOOR);
  });

  it('never returns another user’s chunks, by words or by meaning', async () => {
    const eve = await insertUser(scratch.db, 'eve');
    await ingest(eve, 'eve-secret.md', '# Zanzibar vault\n\nThe zanzibar vault combination is kept with the notary.');
    for (const query of ['zanzibar vault combination', 'notary zanzibar']) {
      const mine = await hybrid.search(userId, query, { topK: 10 });
      expect(mine.mode).toBe('hybrid');
      expect(mine.chunks.map((chunk) => chunk.fileName)).not.toContain('eve-secret.md');
      expect(mine.chunks.every((chunk) => fileIdByName.has(chunk.fileName))).toBe(true);
      const hers = await hybrid.search(eve, query, { topK: 10 });
      expect(hers.chunks.map((chunk) => chunk.fileName)).toEqual(['eve-secret.md']);
    }
  });

  it('restricts results to the given fileIds, and an empty list finds nothing', async () => {
    const only = [fileIdByName.get('coffee-brewing.md')!, fileIdByName.get('git-branching.md')!];
    const result = await hybrid.search(userId, 'how do I purchase a residence', { topK: 5, fileIds: only });
    expect(result.chunks.length).toBeGreaterThan(0);
    expect(result.chunks.every((chunk) => only.includes(chunk.fileId))).toBe(true);
    expect((await hybrid.search(userId, 'coffee', { topK: 5, fileIds: [] })).chunks).toEqual([]);
  });

  it('excludes files that are not ready, and includes them once they are', async () => {
    const fileId = await ingest(
      userId,
      'pending.md',
      '# Quokka census\n\nThe quokka census on Rottnest counts marsupials.',
      'processing',
    );
    const before = await hybrid.search(userId, 'quokka census marsupials', { topK: 5 });
    expect(before.chunks.map((chunk) => chunk.fileName)).not.toContain('pending.md');
    await setFileStatus(scratch.db, fileId, 'ready');
    const after = await hybrid.search(userId, 'quokka census marsupials', { topK: 5 });
    expect(after.chunks[0]).toMatchObject({ fileName: 'pending.md', lexicalRank: 1, vectorRank: 1 });
  });

  it('sees replaced chunks once the index version moved, and drops deleted ones', async () => {
    const fileId = fileIdByName.get('coffee-brewing.md')!;
    const [xylophone] = await embeddings.embed(['xylophone tuning']);
    const background = new VectorIndex(scratch.db, new RedisIndexVersions(redis)); // stale while reloading
    await background.warm(userId);
    await vectors.warm(userId);
    await store.replaceFileChunks({
      fileId,
      userId,
      chunks: [{ seq: 0, content: 'Cold brew steeps for sixteen hours', tokens: 6, embedding: xylophone }],
    });
    // The waiting index reloads before answering; the background one answers from its old snapshot meanwhile.
    expect((await vectors.search(userId, xylophone!, { limit: 1 }))[0]?.fileId).toBe(fileId);
    const stale = await background.search(userId, xylophone!, { limit: 1 });
    expect(stale[0]?.score).toBeLessThan(0.99);
    await background.warm(userId);
    const fresh = await background.search(userId, xylophone!, { limit: 1 });
    expect(fresh[0]).toMatchObject({ fileId });
    expect(fresh[0]!.score).toBeCloseTo(1, 5);

    await store.deleteFileChunks(fileId, userId);
    const gone = await hybrid.search(userId, 'cold brew steeps', { topK: 5 });
    expect(gone.chunks.map((chunk) => chunk.fileId)).not.toContain(fileId);
  });

  it('keeps users within its memory budget, dropping the least recently searched (one user always fits)', async () => {
    const other = await insertUser(scratch.db, 'grace');
    await ingest(other, 'notes.md', 'Marimba mallets are wrapped in yarn.\n\nThe bars are rosewood.');
    const sizeOf = async (user: string) =>
      (await new VectorIndex(scratch.db, new RedisIndexVersions(redis)).warm(user)).bytes;
    const [adaBytes, graceBytes] = [await sizeOf(userId), await sizeOf(other)];
    const budget = new VectorIndex(scratch.db, new RedisIndexVersions(redis), { maxBytes: adaBytes + graceBytes - 1 });
    await budget.warm(userId);
    await budget.warm(other);
    expect(budget.bytes).toBe(graceBytes); // both do not fit: the one searched first went
    const tiny = new VectorIndex(scratch.db, new RedisIndexVersions(redis), { maxBytes: 1 });
    await tiny.warm(userId);
    expect(tiny.bytes).toBe(adaBytes); // over the budget alone, and still kept: its search needs it
    const roomy = new VectorIndex(scratch.db, new RedisIndexVersions(redis), { maxBytes: adaBytes + graceBytes });
    await roomy.warm(userId);
    await roomy.warm(other);
    expect(roomy.bytes).toBe(adaBytes + graceBytes);
  });

  it('reloads after the version counter was lost (a Redis reset) instead of keeping its snapshot', async () => {
    const fileId = fileIdByName.get('coffee-brewing.md')!;
    const [marimba] = await embeddings.embed(['marimba mallets']);
    const index = new VectorIndex(scratch.db, new RedisIndexVersions(redis)); // stale while reloading
    await store.replaceFileChunks({ fileId, userId, chunks: [{ seq: 0, content: 'espresso', tokens: 1 }] });
    await index.warm(userId); // cached at the current (non-zero) version
    // Redis loses the counter (flushed, evicted): the version reads 0 again, lower than the cached one.
    await redis.del(versionKey(userId));
    // Meanwhile the file's vector changes (written directly: no version bump reaches the cache).
    await scratch.db.query(
      'INSERT INTO file_chunk_vectors (chunk_id, file_id, user_id, embedding) VALUES (?, ?, ?, ?)',
      [chunkIdFor(fileId, 0), fileId, userId, encodeVector(marimba!)],
    );
    await index.warm(userId); // loads at version 0: that snapshot must replace the cached one
    const hits = await index.search(userId, marimba!, { limit: 1 });
    expect(hits[0]).toMatchObject({ fileId });
    expect(hits[0]!.score).toBeCloseTo(1, 5);
  });

  it('an IVF-partitioned index probing every list scores exactly like the brute-force one', async () => {
    const ivf = new VectorIndex(scratch.db, new RedisIndexVersions(redis), {
      ivfMinRows: 10,
      ivfLists: () => 8,
      ivfProbes: (lists) => lists,
    });
    expect((await ivf.warm(userId)).ivfLists).toBe(8);
    for (const text of ['purchase a residence', 'scald treatment', 'kubernetes rollout']) {
      const [query] = await embeddings.embed([text]);
      const approximate = await ivf.search(userId, query!, { limit: 5 });
      const exact = await vectors.search(userId, query!, { limit: 5 });
      // Equal scores may come in another order (rows are reordered by list), so compare the scores themselves.
      const scores = (hits: { score: number }[]) => hits.map((hit) => hit.score.toFixed(6));
      expect(scores(approximate)).toEqual(scores(exact));
      expect(approximate[0]?.chunkId).toBe(exact[0]?.chunkId);
    }
  });

  it('an index scored in WebAssembly SIMD (IVF, rows reordered in place) finds what the JavaScript scan finds', async () => {
    const simd = new VectorIndex(scratch.db, new RedisIndexVersions(redis), {
      ivfMinRows: 10,
      ivfLists: () => 8,
      ivfProbes: (lists) => lists,
      simdMinRows: 0,
    });
    const stats = await simd.warm(userId);
    expect(stats).toMatchObject({ simd: true, ivfLists: 8 });
    expect((await vectors.warm(userId)).simd).toBe(false); // the baseline is small enough for JavaScript
    const files = [...fileIdByName.values()];
    for (const text of ['purchase a residence', 'scald treatment', 'kubernetes rollout']) {
      const [query] = await embeddings.embed([text]);
      for (const fileIds of [undefined, files.slice(0, 1)]) {
        const fast = await simd.search(userId, query!, { limit: 5, fileIds });
        const exact = await vectors.search(userId, query!, { limit: 5, fileIds, exact: true });
        expect(fast.length).toBe(exact.length);
        expect(fast.length).toBeGreaterThan(0);
        // Scores summed in 32-bit floats: equal to the 64-bit sums within float precision.
        fast.forEach((hit, i) => expect(hit.score).toBeCloseTo(exact[i]!.score, 5));
        // The best row, or one tied with it within that precision.
        const tiedBest = exact.filter((hit) => Math.abs(hit.score - exact[0]!.score) < 1e-5).map((hit) => hit.chunkId);
        expect(tiedBest).toContain(fast[0]?.chunkId);
      }
    }
  });

  it('a search filtered to a few files finds all their best rows even where IVF would probe a single list', async () => {
    const ivf = new VectorIndex(scratch.db, new RedisIndexVersions(redis), {
      ivfMinRows: 10,
      ivfLists: () => 8,
      ivfProbes: () => 1, // the nearest list only: a filtered search would miss whatever of its files lies elsewhere
    });
    expect((await ivf.warm(userId)).ivfLists).toBe(8);
    const files = [...fileIdByName.values()];
    let compared = 0;
    for (const fileId of files) {
      for (const text of ['purchase a residence', 'kubernetes rollout', 'sourdough starter']) {
        const [query] = await embeddings.embed([text]);
        const narrow = await ivf.search(userId, query!, { limit: 3, fileIds: [fileId] });
        const exact = await vectors.search(userId, query!, { limit: 3, fileIds: [fileId], exact: true });
        // Equal scores may come in another order (rows are reordered by list): compare the scores themselves.
        expect(narrow.map((hit) => hit.score.toFixed(6))).toEqual(exact.map((hit) => hit.score.toFixed(6)));
        expect(narrow.every((hit) => hit.fileId === fileId)).toBe(true);
        compared += exact.length;
      }
    }
    expect(compared).toBeGreaterThan(files.length); // the files have chunks: the comparisons were not of empty lists
  });

  it('answers lexically, saying why, while a cold index is still loading, and uses the index once it has loaded', async () => {
    const cold = new VectorIndex(scratch.db, new RedisIndexVersions(redis), { coldWaitMs: 150 });
    const coldHybrid = new HybridRetriever({ chunks: store, vectors: cold, embeddings });
    // Another session holds the vectors table: the index's load waits on it, as a million-row load would take its time.
    const holder = scratch.db.createQueryRunner();
    await holder.connect();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await holder.query('UNLOCK TABLES');
      await holder.release();
    };
    try {
      await holder.query('LOCK TABLES file_chunk_vectors WRITE');
      const startedAt = performance.now();
      const meanwhile = await coldHybrid.search(userId, 'sourdough starter', { topK: 3 });
      expect(performance.now() - startedAt).toBeLessThan(2000);
      expect(meanwhile).toMatchObject({ mode: 'lexical', degradedReason: 'vector_index_loading' });
      expect(meanwhile.chunks[0]?.fileName).toBe('sourdough-bread.md');
      await release();
      expect((await cold.warm(userId)).rows).toBeGreaterThan(0);
      const loaded = await coldHybrid.search(userId, 'sourdough starter', { topK: 3 });
      expect(loaded.mode).toBe('hybrid');
      expect(loaded.degradedReason).toBeUndefined();
    } finally {
      await release();
    }
  });

  it('ranks chunks holding two of the words first, and ORs the words when too few hold two', async () => {
    const owner = await insertUser(scratch.db, 'lexi');
    const fileId = await insertFile(scratch.db, owner, 'words.md', 'processing');
    const contents = [
      'zorblax quintrel notes one',
      'zorblax quintrel notes two',
      'quintrel maptoon notes three',
      // Under an OR these two would rank first: each repeats its one word.
      'zorblax zorblax zorblax zorblax zorblax zorblax alone notes four',
      'maptoon maptoon maptoon maptoon maptoon maptoon alone notes five',
    ];
    await store.replaceFileChunks({
      fileId,
      userId: owner,
      chunks: contents.map((content, seq) => ({ seq, content, tokens: 5 })),
    });
    await setFileStatus(scratch.db, fileId, 'ready');
    const query = 'zorblax quintrel maptoon';
    const holdingTwo = await store.lexicalSearch(owner, query, { limit: 3 });
    expect(holdingTwo.map((hit) => hit.seq).sort()).toEqual([0, 1, 2]);
    const any = await store.lexicalSearch(owner, query, { limit: 10 }); // only three hold two: every match, OR-ed
    expect(any.map((hit) => hit.seq).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await store.lexicalSearch(owner, 'maptoon', { limit: 3 })).toHaveLength(2); // one word: nothing to pair
  });

  it('degrades to lexical when the embedding provider fails, and says why', async () => {
    fake.setFailure(500);
    try {
      const result = await hybrid.search(userId, 'sourdough starter', { topK: 3 });
      expect(result).toMatchObject({ mode: 'lexical', degradedReason: 'embedding_unavailable' });
      expect(result.chunks[0]?.fileName).toBe('sourdough-bread.md');
      fake.setFailure(401);
      const refused = await hybrid.search(userId, 'sourdough starter', { topK: 3 });
      expect(refused).toMatchObject({ mode: 'lexical', degradedReason: 'embedding_auth' });
    } finally {
      fake.setFailure(undefined);
    }
    expect(fake.requests.at(-1)?.authorization).toBe('Bearer sk-test-secret');
  });
});
