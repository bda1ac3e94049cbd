import type { ToolDefinition } from '../tool-definition';
import { createCalculatorTool } from './calculator';
import { createCurrentTimeTool } from './current-time';
import { createFetchUrlTool, type FetchUrlOptions } from './fetch-url';
import type { SearchFunction } from './search-results';
import { createSearchMyFilesTool } from './search-my-files-tool';
import { createWebSearchTool } from './web-search-tool';

export type { FetchUrlOptions } from './fetch-url';
export type { SearchFunction, SearchResult } from './search-results';

export interface BuiltinToolDeps {
  /** Offers `web_search` when set. */
  webSearch?: SearchFunction;
  /** Offers `search_my_files` when set; searches only `ctx.userId`'s files, within `ctx.fileIds` when given. */
  searchFiles?: SearchFunction;
  /** Offers `fetch_url` when set (`{}` for the defaults). */
  fetchUrl?: FetchUrlOptions;
  /** The clock of `current_time`. */
  now?: () => Date;
}

/**
 * The tools GigaChat ships, for a `ToolRegistry`. Tools that need a service are left out when it is not given,
 * so a deployment without web search never offers the model a tool that cannot work.
 *
 * | tool            | timeout | attempts |
 * | --------------- | ------- | -------- |
 * | calculator      | 2 s     | 1        |
 * | current_time    | 2 s     | 1        |
 * | web_search      | 15 s    | 3        |
 * | search_my_files | 15 s    | 3        |
 * | fetch_url       | 15 s    | 3        |
 *
 * None requires approval by default; operators force it with the registry's `requireApproval` option.
 */
export function createBuiltinTools(deps: BuiltinToolDeps = {}): ToolDefinition[] {
  const tools: ToolDefinition[] = [createCalculatorTool(), createCurrentTimeTool({ now: deps.now })];
  if (deps.webSearch) tools.push(createWebSearchTool({ search: deps.webSearch }));
  if (deps.searchFiles) tools.push(createSearchMyFilesTool({ search: deps.searchFiles }));
  if (deps.fetchUrl) tools.push(createFetchUrlTool(deps.fetchUrl));
  return tools;
}
