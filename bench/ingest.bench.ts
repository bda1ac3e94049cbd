import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { createTokenCounter } from '#libs/chat/token-counter';
import { chunkDocument } from '#libs/documents/chunk-text';
import { extractText } from '#libs/documents/extract-text';
import { RedisCircuitBreaker } from '#libs/resilience/circuit-breaker';
import { SearxngClient } from '#libs/websearch/searxng.client';
import { WebSearchService } from '#libs/websearch/web-search.service';
import { startFakeSearxng } from '../test/fakes/fake-searxng.server';
import { uniqueSuffix } from '../test/support/test-env';
import type { BenchContext, BenchResult, BenchSection } from './bench-section';
import { envInt } from './bench-section';
import { startBenchStack } from './support/bench-stack';
import { ingestThroughApi, type IngestRun, MB, syntheticMarkdown } from './support/ingest-through-api';
import { round1, rounded, summarize } from './support/stats';

/** The target for text with embeddings off, end to end, on a 2-core machine. */
const INGEST_TARGET_MB_PER_S = 8;

/**
 * Ingestion throughput of text with embeddings off (target ≥ 8 MB/s): end to end through the API and the
 * `ingestFile` workflow (upload → object store → extract → chunk → index → ready), and the text pipeline alone in
 * process (extract + chunk with the real tokenizer), to tell the pipeline's cost from the orchestration's. The end to
 * end run is repeated (BENCH_INGEST_ROUNDS, 3) with new files each time: one 16 MB run takes a few seconds, and the
 * machine's noise moves a single run by ±15 %; the median is held against the target. Then the web search cache:
 * latency of a cached SearxNG result (Redis GET + parse).
 */
export const ingestSection: BenchSection = {
  id: 'ingest',
  title: 'File ingestion MB/s (embeddings off) and the web search cache',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const files = envInt(ctx, 'BENCH_INGEST_FILES', 8, 1, 1000);
    const fileMb = envInt(ctx, 'BENCH_INGEST_FILE_MB', 2, 1, 25);
    const cacheHits = envInt(ctx, 'BENCH_SEARCH_CACHE_HITS', 2000, 10, 1_000_000);
    const rounds = envInt(ctx, 'BENCH_INGEST_ROUNDS', 3, 1, 20);
    const errors: string[] = [];
    const texts = Array.from({ length: files }, (_, i) => syntheticMarkdown(fileMb * MB, i + 1));
    const totalBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);

    // 1. The text pipeline alone: extract + chunk, one file at a time, on this process's one thread.
    const tokens = createTokenCounter();
    const pipelineStarted = performance.now();
    let chunks = 0;
    for (const text of texts) {
      const doc = await extractText('md', Buffer.from(text));
      chunks += chunkDocument(doc, { chunkTokens: 500, overlapTokens: 50, countTokens: (s) => tokens.count(s) }).length;
    }
    const pipelineMs = performance.now() - pipelineStarted;
    const pipelineMbPerS = round1(totalBytes / MB / (pipelineMs / 1000));

    // 2. End to end: upload through the API, ingest in the worker, until every file is ready.
    const stack = await startBenchStack(ctx, 'ingest', {
      RATE_LIMIT_FILES_MAX: '1000000',
      FILE_MAX_BYTES: String(26 * MB),
    });
    const runs: IngestRun[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        // New text each round (another seed), so no round ingests what an earlier one stored.
        const roundTexts =
          round === 0 ? texts : texts.map((_, i) => syntheticMarkdown(fileMb * MB, round * files + i + 1));
        runs.push(await ingestThroughApi(stack.baseUrl, roundTexts, ctx.signal, errors));
      }
    } finally {
      errors.push(...(await stack.close()));
    }

    // 3. A cached web search: what a turn pays for web results asked before.
    const searx = await startFakeSearxng();
    const keyPrefix = `gcbench:search:${uniqueSuffix()}:`;
    const redis = new Redis(stack.config.redis.url, { keyPrefix });
    let cache: ReturnType<typeof rounded> | undefined;
    try {
      const service = new WebSearchService({
        client: new SearxngClient({ baseUrl: searx.url, timeoutMs: 2000 }),
        redis,
        keyPrefix: '',
        cacheTtlSeconds: 600,
        breaker: new RedisCircuitBreaker({
          redis,
          keyPrefix: '',
          name: 'websearch',
          failureThreshold: 5,
          cooldownMs: 30_000,
        }),
        resultLimit: 5,
      });
      const queries = Array.from({ length: 20 }, (_, i) => `durable workflows question ${i}`);
      for (const query of queries) await service.search(query); // misses: fill the cache
      const before = searx.requests;
      const samples: number[] = [];
      for (let i = 0; i < cacheHits; i++) {
        const t0 = performance.now();
        const outcome = await service.search(queries[i % queries.length]!);
        samples.push(performance.now() - t0);
        if (outcome.status !== 'ok' || !outcome.cached) errors.push(`search ${i} was not a cache hit`);
      }
      if (searx.requests !== before) errors.push(`${searx.requests - before} cache hits reached SearxNG`);
      cache = rounded(summarize(samples));
    } finally {
      // KEYS/SCAN patterns are not prefixed by ioredis: sweep this run's own prefix with the full pattern.
      const keys: string[] = [];
      for await (const batch of redis.scanStream({ match: `${keyPrefix}*`, count: 500 }))
        keys.push(...(batch as string[]));
      if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(keyPrefix.length)));
      redis.disconnect();
      await searx.close();
    }

    const endToEnd = runs.length > 0 ? medianRun(runs) : undefined;
    const pass = (endToEnd?.mbPerS ?? 0) >= INGEST_TARGET_MB_PER_S;
    ctx.print(`ingest: ${files} markdown files of ${fileMb} MB (${round1(totalBytes / MB)} MB), embeddings off`);
    ctx.print(`  extract + chunk in process   ${pipelineMbPerS} MB/s  (${chunks} chunks of ≤ 500 tokens)`);
    if (endToEnd) {
      const range = runs.map((run) => run.mbPerS).sort((a, b) => a - b);
      ctx.print(
        `  end to end (API → ready)     ${endToEnd.mbPerS} MB/s median of ${runs.length} rounds ` +
          `(${range[0]}–${range.at(-1)}; median round ${endToEnd.wallMs} ms, of which uploads ${endToEnd.uploadMs} ms; ` +
          `${endToEnd.chunks} chunks)  target ≥ ${INGEST_TARGET_MB_PER_S} MB/s: ${pass ? 'met' : 'MISSED'}`,
      );
    }
    if (cache)
      ctx.print(
        `web search cache hit ms       p50 ${cache.p50}  p95 ${cache.p95}  p99 ${cache.p99}  (${cache.count} hits)`,
      );
    return {
      id: 'ingest',
      data: {
        files,
        fileMb,
        totalBytes,
        pipeline: { mbPerS: pipelineMbPerS, ms: Math.round(pipelineMs), chunks },
        endToEnd,
        rounds: runs,
        targetMbPerS: INGEST_TARGET_MB_PER_S,
        targetMet: pass,
        searchCacheHitMs: cache,
      },
      errors,
    };
  },
};

/** The round with the median throughput (the lower middle one of an even count). */
function medianRun(runs: IngestRun[]): IngestRun {
  const sorted = [...runs].sort((a, b) => a.mbPerS - b.mbPerS);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
