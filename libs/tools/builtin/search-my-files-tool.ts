import { z } from 'zod';
import { oneLine, type ToolDefinition } from '../tool-definition';
import { formatSearchResults, type SearchFunction } from './search-results';

const parameters = z.object({
  query: z.string().min(1).max(400).describe('What to look for in the files the user uploaded'),
});

export type SearchMyFilesArgs = z.infer<typeof parameters>;

export interface SearchMyFilesToolDeps {
  /** Searches only the user's own files (`ctx.userId`), limited to `ctx.fileIds` when set. */
  search: SearchFunction;
}

/** `search_my_files`: the retriever over the user's uploaded documents, offered to the model. */
export function createSearchMyFilesTool(deps: SearchMyFilesToolDeps): ToolDefinition<SearchMyFilesArgs> {
  return {
    name: 'search_my_files',
    description: "Searches the user's uploaded files and returns the most relevant passages. Cite passages as [n].",
    parameters,
    timeoutMs: 15_000,
    maxAttempts: 3,
    requiresApproval: false,
    async run({ query }, ctx) {
      const results = await deps.search(query, ctx);
      if (results.length === 0) {
        return { content: 'No passages found in your files.', summary: oneLine(`No passages for "${query}"`) };
      }
      return {
        content: formatSearchResults(results),
        summary: oneLine(`${results.length} passages for "${query}"`),
      };
    },
  };
}
