import type { ChunkHit, ChunkStore } from './chunk-store';
import type { EmbeddingClient } from './embedding-client';
import { EmbeddingError } from './embedding.error';
import { fuseByReciprocalRank } from './reciprocal-rank-fusion';
import { type VectorHit, type VectorIndex, VectorIndexLoadingError } from './vector-index';

/** A hit with its 1-based rank in each ranker that found it. In hybrid mode `score` is the fused RRF score. */
export type RetrievedChunk = ChunkHit & { lexicalRank?: number; vectorRank?: number };

export interface RetrievalResult {
  /** `lexical` when no embeddings are configured, or when the vector side failed (see `degradedReason`). */
  mode: 'hybrid' | 'lexical';
  chunks: RetrievedChunk[];
  /** Why a hybrid search fell back to lexical: an `EmbeddingError` code, `vector_index_loading`, or `vector_search_failed`. */
  degradedReason?: string;
}

export interface HybridSearchOptions {
  /** Only these files; an empty list matches nothing. */
  fileIds?: string[];
  topK: number;
}

export interface HybridRetrieverDeps {
  chunks: Pick<ChunkStore, 'lexicalSearch' | 'getChunks'>;
  vectors?: Pick<VectorIndex, 'search'>;
  embeddings?: Pick<EmbeddingClient, 'embed'>;
  /** Candidates each ranker contributes before fusion (default 50, never fewer than topK). */
  candidates?: number;
}

const MAX_TOP_K = 100;

/**
 * Lexical (FULLTEXT) and vector candidates, fetched in parallel and fused by reciprocal rank. Without an embedding
 * client or vector index the search is lexical only; when embedding or vector search fails it degrades to lexical
 * and says so, rather than failing the chat turn.
 */
export class HybridRetriever {
  private readonly candidates: number;

  constructor(private readonly deps: HybridRetrieverDeps) {
    this.candidates = Math.max(1, Math.floor(deps.candidates ?? 50));
  }

  async search(userId: string, query: string, options: HybridSearchOptions): Promise<RetrievalResult> {
    const topK = Math.min(MAX_TOP_K, Math.max(0, Math.floor(options.topK)));
    const { chunks, vectors, embeddings } = this.deps;
    if (topK === 0) return { mode: vectors && embeddings ? 'hybrid' : 'lexical', chunks: [] };
    const limit = Math.max(this.candidates, topK);
    const fileIds = options.fileIds;

    if (!vectors || !embeddings) {
      const lexical = await chunks.lexicalSearch(userId, query, { fileIds, limit: topK });
      return { mode: 'lexical', chunks: lexical.map((hit, index) => ({ ...hit, lexicalRank: index + 1 })) };
    }

    const vectorSide = (async (): Promise<VectorHit[]> => {
      const [queryVector] = await embeddings.embed([query]);
      if (!queryVector) throw new Error('The embedding provider returned no vector');
      return vectors.search(userId, queryVector, { fileIds, limit });
    })();
    const [lexicalOutcome, vectorOutcome] = await Promise.allSettled([
      chunks.lexicalSearch(userId, query, { fileIds, limit }),
      vectorSide,
    ]);
    if (lexicalOutcome.status === 'rejected') throw lexicalOutcome.reason;
    const lexical = lexicalOutcome.value;
    if (vectorOutcome.status === 'rejected') {
      const reason: unknown = vectorOutcome.reason;
      return {
        mode: 'lexical',
        chunks: lexical.slice(0, topK).map((hit, index) => ({ ...hit, lexicalRank: index + 1 })),
        degradedReason:
          reason instanceof EmbeddingError || reason instanceof VectorIndexLoadingError
            ? reason.code
            : 'vector_search_failed',
      };
    }

    type Candidate = { chunkId: string; hit?: ChunkHit };
    const fused = fuseByReciprocalRank<Candidate>(
      [
        { items: lexical.map((hit) => ({ chunkId: hit.chunkId, hit })) },
        { items: vectorOutcome.value.map((hit) => ({ chunkId: hit.chunkId })) },
      ],
      (candidate) => candidate.chunkId,
    );
    // Read the text of vector-only winners; a few spare in case one vanished (file deleted) since indexing.
    const winners = fused.slice(0, topK + Math.min(10, topK));
    const missing = winners.filter((entry) => !entry.item.hit).map((entry) => entry.item.chunkId);
    const fetched = new Map((await chunks.getChunks(missing, userId)).map((hit) => [hit.chunkId, hit]));
    const results: RetrievedChunk[] = [];
    for (const { item, score, ranks } of winners) {
      const hit = item.hit ?? fetched.get(item.chunkId);
      if (!hit) continue;
      const [lexicalRank, vectorRank] = ranks;
      results.push({
        ...hit,
        score,
        ...(lexicalRank === undefined ? {} : { lexicalRank }),
        ...(vectorRank === undefined ? {} : { vectorRank }),
      });
      if (results.length === topK) break;
    }
    return { mode: 'hybrid', chunks: results };
  }
}
