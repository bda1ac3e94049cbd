import { z } from 'zod';
import { oneLine, type ToolDefinition } from '../tool-definition';
import { formatSearchResults, type SearchFunction } from './search-results';

const parameters = z.object({
  query: z.string().min(1).max(400).describe('What to search the web for, as you would type it into a search engine'),
});

export type WebSearchArgs = z.infer<typeof parameters>;

export interface WebSearchToolDeps {
  search: SearchFunction;
}

/** `web_search`: the existing web search service, offered to the model. Errors are the service's own. */
export function createWebSearchTool(deps: WebSearchToolDeps): ToolDefinition<WebSearchArgs> {
  return {
    name: 'web_search',
    description: 'Searches the web and returns the top results with a short text for each. Cite results as [n].',
    parameters,
    timeoutMs: 15_000,
    maxAttempts: 3,
    requiresApproval: false,
    async run({ query }, ctx) {
      const results = await deps.search(query, ctx);
      if (results.length === 0)
        return { content: 'No web results found.', summary: oneLine(`No web results for "${query}"`) };
      return {
        content: formatSearchResults(results),
        summary: oneLine(`${results.length} web results for "${query}"`),
      };
    },
  };
}
