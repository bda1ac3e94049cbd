import type { ChunkHit } from './chunk-store';
import { EmbeddingError } from './embedding.error';
import { HybridRetriever } from './hybrid-retriever';
import type { VectorHit } from './vector-index';

const hit = (chunkId: string, score = 1): ChunkHit => ({
  chunkId,
  fileId: `file-${chunkId}`,
  fileName: `${chunkId}.md`,
  seq: 0,
  heading: null,
  content: `text of ${chunkId}`,
  score,
});

function fakes(lexical: string[], vector: string[], stored = [...lexical, ...vector]) {
  const calls = { lexicalLimits: [] as number[], fetched: [] as string[][] };
  const chunks = {
    lexicalSearch: async (_user: string, _query: string, options: { limit: number }) => {
      calls.lexicalLimits.push(options.limit);
      return lexical.slice(0, options.limit).map((id) => hit(id));
    },
    getChunks: async (ids: string[]) => {
      calls.fetched.push(ids);
      return ids.filter((id) => stored.includes(id)).map((id) => hit(id, 0));
    },
  };
  const vectors = {
    search: async (): Promise<VectorHit[]> => vector.map((id) => ({ chunkId: id, fileId: `file-${id}`, score: 0.5 })),
  };
  const embeddings = { embed: async (texts: string[]) => texts.map(() => new Float32Array([1, 0])) };
  return { chunks, vectors, embeddings, calls };
}

describe('HybridRetriever', () => {
  it('is lexical only without embeddings, keeping FULLTEXT order and scores', async () => {
    const { chunks, calls } = fakes(['a', 'b', 'c'], []);
    const result = await new HybridRetriever({ chunks }).search('u', 'q', { topK: 2 });
    expect(result.mode).toBe('lexical');
    expect(result.chunks.map((c) => [c.chunkId, c.lexicalRank, c.vectorRank])).toEqual([
      ['a', 1, undefined],
      ['b', 2, undefined],
    ]);
    expect(calls.lexicalLimits).toEqual([2]);
  });

  it('fuses both rankings, fetches text only for vector-only winners and skips vanished chunks', async () => {
    const { chunks, vectors, embeddings, calls } = fakes(['a', 'b'], ['b', 'gone', 'v'], ['a', 'b', 'v']);
    const result = await new HybridRetriever({ chunks, vectors, embeddings, candidates: 10 }).search('u', 'q', {
      topK: 3,
    });
    expect(result.mode).toBe('hybrid');
    expect(result.chunks.map((c) => [c.chunkId, c.lexicalRank, c.vectorRank])).toEqual([
      ['b', 2, 1],
      ['a', 1, undefined],
      ['v', undefined, 3],
    ]);
    expect(result.chunks[0]!.score).toBeCloseTo(1 / 62 + 1 / 61);
    expect(result.chunks[2]!.content).toBe('text of v');
    expect(calls.fetched).toEqual([['gone', 'v']]);
    expect(calls.lexicalLimits).toEqual([10]);
  });

  it('degrades to lexical with the embedding error code, or a generic reason', async () => {
    const { chunks, vectors } = fakes(['a'], ['v']);
    const failing = {
      embed: async (): Promise<Float32Array[]> => {
        throw new EmbeddingError('embedding_rate_limited', 'slow down', true, 429);
      },
    };
    expect(await new HybridRetriever({ chunks, vectors, embeddings: failing }).search('u', 'q', { topK: 5 })).toEqual({
      mode: 'lexical',
      chunks: [{ ...hit('a'), lexicalRank: 1 }],
      degradedReason: 'embedding_rate_limited',
    });
    const broken = { search: async (): Promise<VectorHit[]> => Promise.reject(new Error('dimension mismatch')) };
    const { embeddings } = fakes([], []);
    const result = await new HybridRetriever({ chunks, vectors: broken, embeddings }).search('u', 'q', { topK: 5 });
    expect(result).toMatchObject({ mode: 'lexical', degradedReason: 'vector_search_failed' });
  });

  it('lets a lexical (database) failure through', async () => {
    const { vectors, embeddings } = fakes([], []);
    const chunks = {
      lexicalSearch: () => Promise.reject(new Error('database down')),
      getChunks: async () => [],
    };
    await expect(new HybridRetriever({ chunks, vectors, embeddings }).search('u', 'q', { topK: 5 })).rejects.toThrow(
      'database down',
    );
  });
});
