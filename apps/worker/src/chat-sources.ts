import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { FileRetriever, WebSearcher } from '#activities/chat.activities';
import type { AppConfig } from '#libs/config/app-config';
import { createLlmProvider, type LlmProviderConfig } from '#libs/llm/create-llm-provider';
import type { LlmProvider } from '#libs/llm/llm-provider';
import type { Logger } from '#libs/logging/logger';
import { RedisCircuitBreaker } from '#libs/resilience/circuit-breaker';
import { ChunkStore } from '#libs/retrieval/chunk-store';
import { EmbeddingClient } from '#libs/retrieval/embedding-client';
import { HybridRetriever } from '#libs/retrieval/hybrid-retriever';
import { RedisIndexVersions } from '#libs/retrieval/index-versions';
import { VectorIndex } from '#libs/retrieval/vector-index';
import { SearxngClient } from '#libs/websearch/searxng.client';
import { WebSearchService } from '#libs/websearch/web-search.service';

/**
 * Where a chat turn's sources come from: the user's files (lexical FULLTEXT search, fused with vector search when an
 * embedding provider is configured) and SearxNG (cached in Redis, behind a breaker every worker shares).
 * `redis` must carry the deployment's key prefix.
 */
export function createChatSources(
  config: AppConfig,
  deps: { db: DataSource; redis: Redis; logger: Logger },
): { retriever: FileRetriever; webSearch: WebSearcher } {
  const versions = new RedisIndexVersions(deps.redis);
  const embeddings = config.embeddings ? new EmbeddingClient(config.embeddings) : undefined;
  const retriever = new HybridRetriever({
    chunks: new ChunkStore(deps.db, versions),
    ...(embeddings
      ? { embeddings, vectors: new VectorIndex(deps.db, versions, { maxBytes: config.retrieval.vectorCacheBytes }) }
      : {}),
  });
  const webSearch = new WebSearchService({
    client: config.webSearch.searxngUrl
      ? new SearxngClient({ baseUrl: config.webSearch.searxngUrl, timeoutMs: config.webSearch.timeoutMs })
      : undefined,
    redis: deps.redis,
    keyPrefix: '', // the client already prefixes every key
    cacheTtlSeconds: config.webSearch.cacheTtlSeconds,
    breaker: webSearchBreaker(config, deps.redis, deps.logger),
    resultLimit: config.webSearch.resultLimit,
    logger: deps.logger,
  });
  return { retriever, webSearch };
}

/**
 * The model behind chat turns: every configured provider behind one fallback chain, each provider's breaker in Redis
 * (shared by all workers). `redis` must carry the deployment's key prefix.
 */
export function createChatLlm(
  config: AppConfig,
  redis: Redis,
  logger: Logger,
  onFallback?: LlmProviderConfig['onFallback'],
): LlmProvider {
  return createLlmProvider({
    onFallback,
    providers: config.llm.providers,
    model: config.llm.model,
    timeoutMs: config.llm.timeoutMs,
    breakerFor: (name) => llmBreaker(config, redis, name, logger),
    logger,
  });
}

/** SearxNG's breaker (`websearch`). `redis` carries the key prefix, so the breaker adds none. */
function webSearchBreaker(config: AppConfig, redis: Redis, logger?: Logger): RedisCircuitBreaker {
  const { failureThreshold, cooldownMs } = config.webSearch.breaker;
  return new RedisCircuitBreaker({ redis, keyPrefix: '', name: 'websearch', failureThreshold, cooldownMs, logger });
}

/** A model provider's breaker (`llm:<provider>`). */
function llmBreaker(config: AppConfig, redis: Redis, provider: string, logger?: Logger): RedisCircuitBreaker {
  const { failureThreshold, cooldownMs } = config.llm.breaker;
  return new RedisCircuitBreaker({
    redis,
    keyPrefix: '',
    name: `llm:${provider}`,
    failureThreshold,
    cooldownMs,
    logger,
  });
}

/** Every breaker a chat turn may trip, as the metrics read their states: SearxNG's and each provider's. */
export function chatBreakers(config: AppConfig, redis: Redis): RedisCircuitBreaker[] {
  return [webSearchBreaker(config, redis), ...config.llm.providers.map((each) => llmBreaker(config, redis, each.name))];
}
