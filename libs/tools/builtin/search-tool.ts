import { z } from 'zod';
import { oneLine, type ToolDefinition } from '../tool-definition';
import { formatSearchResults, type SearchFunction } from './search-results';

export interface SearchToolSpec {
  name: string;
  description: string;
  /** What the model is told the `query` argument is. */
  queryDescription: string;
  /** What the results are called in the summary: `web results`, `passages`. */
  resultsName: string;
  /** The content when nothing was found. */
  noResults: string;
}

export type SearchArgs = { query: string };

/**
 * A tool that answers a query with numbered results from a search the worker injects (web search, the user's files):
 * `[n] title (url)` and the text of each, so the model can cite them as `[n]`. Errors are the service's own.
 */
export function createSearchTool(spec: SearchToolSpec, search: SearchFunction): ToolDefinition<SearchArgs> {
  return {
    name: spec.name,
    description: spec.description,
    parameters: z.object({ query: z.string().min(1).max(400).describe(spec.queryDescription) }),
    timeoutMs: 15_000,
    maxAttempts: 3,
    requiresApproval: false,
    async run({ query }, ctx) {
      const results = await search(query, ctx);
      if (results.length === 0)
        return { content: spec.noResults, summary: oneLine(`No ${spec.resultsName} for "${query}"`) };
      return {
        content: formatSearchResults(results),
        summary: oneLine(`${results.length} ${spec.resultsName} for "${query}"`),
      };
    },
  };
}
