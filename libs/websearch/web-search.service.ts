import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';
import type { RedisCircuitBreaker } from '../resilience/circuit-breaker';
import { CircuitOpenError } from '../resilience/circuit-open.error';
import type { SearxngClient } from './searxng.client';
import type { WebResult } from './web-result';
import { WebSearchError } from './web-search.error';

export type WebSearchSkipReason = 'not_configured' | 'circuit_open' | 'rate_limited' | 'blocked' | 'timeout' | 'error';

/** What a chat turn gets: results, or why there are none (the turn then answers without the web). */
export type WebSearchOutcome =
  | { status: 'ok'; results: WebResult[]; cached: boolean }
  | { status: 'skipped'; reason: WebSearchSkipReason; detail: string; results: [] };

export interface WebSearchStats {
  hits: number;
  misses: number;
}

export interface WebSearchServiceOptions {
  /** Undefined when no SearxNG is configured (`SEARXNG_URL` unset): every search is then skipped. */
  client: Pick<SearxngClient, 'search'> | undefined;
  redis: Redis;
  /** Prefix for the cache and stats keys, e.g. `gigachat:`. */
  keyPrefix: string;
  cacheTtlSeconds: number;
  /** Guards the provider; shared by every worker. */
  breaker: Pick<RedisCircuitBreaker, 'run'>;
  resultLimit: number;
  /** Passed to SearxNG; default: the instance's own. */
  language?: string;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Web search for chat turns: a Redis cache in front of SearxNG, behind a circuit breaker. It never throws for a
 * provider problem; it degrades to a `skipped` outcome that says why, so the turn can go on without the web.
 * Only successful searches are cached; hits and misses are counted in Redis (`<prefix>websearch:stats`).
 */
export class WebSearchService {
  private readonly statsKey: string;

  constructor(private readonly options: WebSearchServiceOptions) {
    if (!Number.isInteger(options.resultLimit) || options.resultLimit < 1) {
      throw new Error(`resultLimit must be a positive integer, got ${options.resultLimit}`);
    }
    if (!Number.isInteger(options.cacheTtlSeconds) || options.cacheTtlSeconds < 1) {
      throw new Error(`cacheTtlSeconds must be a positive integer, got ${options.cacheTtlSeconds}`);
    }
    this.statsKey = `${options.keyPrefix}websearch:stats`;
  }

  async search(query: string): Promise<WebSearchOutcome> {
    const client = this.options.client;
    if (!client) return skipped('not_configured', 'Web search is not configured (SEARXNG_URL is unset)');
    const normalised = normaliseQuery(query);
    if (normalised === '') return { status: 'ok', results: [], cached: false };

    const cacheKey = this.cacheKey(normalised);
    const cached = await this.readCache(cacheKey);
    if (cached) {
      await this.count('hits');
      return { status: 'ok', results: cached, cached: true };
    }
    await this.count('misses');

    let results: WebResult[];
    try {
      results = await this.options.breaker.run(
        () => client.search(query.trim(), { limit: this.options.resultLimit, language: this.options.language }),
        isProviderFailure,
      );
    } catch (error) {
      const outcome = skippedFor(error);
      this.options.logger?.warn({ reason: outcome.reason, detail: outcome.detail }, 'web search skipped');
      return outcome;
    }
    await this.writeCache(cacheKey, results);
    return { status: 'ok', results, cached: false };
  }

  async stats(): Promise<WebSearchStats> {
    const { hits, misses } = await this.options.redis.hgetall(this.statsKey);
    return { hits: Number(hits ?? 0), misses: Number(misses ?? 0) };
  }

  private cacheKey(normalised: string): string {
    const identity = JSON.stringify([normalised, this.options.resultLimit, this.options.language ?? '']);
    return `${this.options.keyPrefix}websearch:cache:${createHash('sha256').update(identity).digest('hex')}`;
  }

  /** A cache that cannot answer (or holds garbage) is a miss, never an error. */
  private async readCache(key: string): Promise<WebResult[] | undefined> {
    try {
      const raw = await this.options.redis.get(key);
      if (raw === null) return undefined;
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? (parsed as WebResult[]) : undefined;
    } catch (error) {
      this.warn(error, 'web search cache unreadable');
      return undefined;
    }
  }

  private async writeCache(key: string, results: WebResult[]): Promise<void> {
    try {
      await this.options.redis.set(key, JSON.stringify(results), 'EX', this.options.cacheTtlSeconds);
    } catch (error) {
      this.warn(error, 'web search cache not written');
    }
  }

  private async count(field: keyof WebSearchStats): Promise<void> {
    try {
      await this.options.redis.hincrby(this.statsKey, field, 1);
    } catch (error) {
      this.warn(error, 'web search stats not counted');
    }
  }

  private warn(error: unknown, message: string): void {
    this.options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, message);
  }
}

/** Lower case, whitespace collapsed: `"  Rust  Async "` and `"rust async"` share a cache entry. */
export function normaliseQuery(query: string): string {
  return query.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** What opens the circuit: timeouts, 5xx, 429, blocks (403, CAPTCHA) and an unreachable instance. */
function isProviderFailure(error: unknown): boolean {
  return error instanceof WebSearchError && error.isProviderFailure;
}

function skipped(reason: WebSearchSkipReason, detail: string): WebSearchOutcome & { status: 'skipped' } {
  return { status: 'skipped', reason, detail, results: [] };
}

function skippedFor(error: unknown): WebSearchOutcome & { status: 'skipped' } {
  if (error instanceof CircuitOpenError) {
    return skipped('circuit_open', `Web search is paused after repeated failures; retry in ${error.retryAfterMs} ms`);
  }
  if (error instanceof WebSearchError) {
    switch (error.reason) {
      case 'rate_limited':
      case 'blocked':
      case 'timeout':
        return skipped(error.reason, error.message);
      default:
        return skipped('error', error.message);
    }
  }
  return skipped('error', `Web search failed: ${error instanceof Error ? error.message : String(error)}`);
}
