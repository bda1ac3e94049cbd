import type { ToolDefinition } from '../tool-definition';
import type { SearchFunction } from './search-results';
import { createSearchTool, type SearchArgs } from './search-tool';

export interface SearchMyFilesToolDeps {
  /** Searches only the user's own files (`ctx.userId`), limited to `ctx.fileIds` when set. */
  search: SearchFunction;
}

/** `search_my_files`: the retriever over the user's uploaded documents, offered to the model. */
export function createSearchMyFilesTool(deps: SearchMyFilesToolDeps): ToolDefinition<SearchArgs> {
  return createSearchTool(
    {
      name: 'search_my_files',
      description: "Searches the user's uploaded files and returns the most relevant passages. Cite passages as [n].",
      queryDescription: 'What to look for in the files the user uploaded',
      resultsName: 'passages',
      noResults: 'No passages found in your files.',
    },
    deps.search,
  );
}
