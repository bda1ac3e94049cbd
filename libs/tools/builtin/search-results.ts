import type { ToolContext } from '../tool-definition';

/** One hit from a search service, as the search tools hand it to the model. */
export interface SearchResult {
  title: string;
  url?: string;
  text: string;
}

/** A search the workflow side injects (the web search service, the retriever over the user's files). */
export type SearchFunction = (query: string, ctx: ToolContext) => Promise<SearchResult[]>;

/** Keeps a tool result within what a turn's context budget can take, however many hits the service returns. */
export const MAX_RESULTS_CHARS = 20_000;

/** `[1] title (url)\n text`, numbered so the model can cite them; cut at whole results when too long. */
export function formatSearchResults(results: SearchResult[], maxChars = MAX_RESULTS_CHARS): string {
  const blocks: string[] = [];
  let length = 0;
  for (const [index, result] of results.entries()) {
    const heading = `[${index + 1}] ${result.title.trim()}${result.url ? ` (${result.url})` : ''}`;
    const block = `${heading}\n${result.text.trim()}`;
    if (length + block.length > maxChars) {
      const room = maxChars - length - heading.length - 2;
      if (blocks.length === 0 && room > 0) blocks.push(`${heading}\n${result.text.trim().slice(0, room)}…`);
      blocks.push(`(${results.length - index} more results left out for length)`);
      break;
    }
    blocks.push(block);
    length += block.length + 2;
  }
  return blocks.join('\n\n');
}
