import type { FileRetriever } from '#activities/chat/retrieve-from-files.activity';
import type { WebSearcher } from '#activities/chat/search-web.activity';
import type { WorkerMetrics } from '#libs/metrics/metrics';

/** A skip reason as a label: the service's own short codes (`disabled`, `breaker_open`, …), else `other`. */
function reasonLabel(reason: string): string {
  return /^[a-z_]{1,32}$/.test(reason) ? reason : 'other';
}

/**
 * `webSearch` with every search counted by outcome — `cache_hit`, `fetched` (a cache miss answered by SearxNG), or the
 * skip reason (`breaker_open`, `timeout`, …) — and timed the same way: the cache hit rate is
 * `cache_hit / (cache_hit + fetched)`.
 */
export function meteredWebSearch(webSearch: WebSearcher, metrics: WorkerMetrics): WebSearcher {
  return {
    async search(query) {
      const started = performance.now();
      const outcome = await webSearch.search(query);
      const label =
        outcome.status === 'ok' ? (outcome.cached ? 'cache_hit' : 'fetched') : `skipped_${reasonLabel(outcome.reason)}`;
      metrics.webSearches.inc({ outcome: label });
      metrics.webSearchSeconds.observe({ outcome: label }, (performance.now() - started) / 1000);
      return outcome;
    },
  };
}

/** `retriever` with every search timed and its passages counted, by mode (`hybrid`, `lexical`, or `failed`). */
export function meteredRetriever(retriever: FileRetriever, metrics: WorkerMetrics): FileRetriever {
  return {
    async search(userId, query, options) {
      const started = performance.now();
      try {
        const found = await retriever.search(userId, query, options);
        metrics.retrievalSeconds.observe({ mode: found.mode }, (performance.now() - started) / 1000);
        metrics.retrievalPassages.observe({ mode: found.mode }, found.chunks.length);
        return found;
      } catch (error) {
        metrics.retrievalSeconds.observe({ mode: 'failed' }, (performance.now() - started) / 1000);
        throw error;
      }
    },
  };
}

/** Both sources of a turn, metered. */
export function meteredSources(
  sources: { retriever: FileRetriever; webSearch: WebSearcher },
  metrics: WorkerMetrics,
): { retriever: FileRetriever; webSearch: WebSearcher } {
  return {
    retriever: meteredRetriever(sources.retriever, metrics),
    webSearch: meteredWebSearch(sources.webSearch, metrics),
  };
}
