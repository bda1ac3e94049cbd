import type { ToolDefinition } from '../tool-definition';
import type { SearchFunction } from './search-results';
import { createSearchTool, type SearchArgs } from './search-tool';

export interface WebSearchToolDeps {
  search: SearchFunction;
}

/** `web_search`: the existing web search service (SearxNG, its cache and breaker), offered to the model. */
export function createWebSearchTool(deps: WebSearchToolDeps): ToolDefinition<SearchArgs> {
  return createSearchTool(
    {
      name: 'web_search',
      description: 'Searches the web and returns the top results with a short text for each. Cite results as [n].',
      queryDescription: 'What to search the web for, as you would type it into a search engine',
      resultsName: 'web results',
      noResults: 'No web results found.',
    },
    deps.search,
  );
}
