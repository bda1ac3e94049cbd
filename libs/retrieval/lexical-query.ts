import { fulltextTerms } from '../db/fulltext-terms';

/** More terms only add rows to rank; a pasted paragraph keeps its first words. */
const MAX_TERMS = 32;

/**
 * The terms of a user's query for `MATCH … AGAINST (? IN BOOLEAN MODE)`, joined by spaces, which boolean mode treats
 * as OR (retrieval ranks passages that share any of the words). `null` when nothing searchable is left.
 */
export function toBooleanQuery(query: string): string | null {
  const terms = lexicalTerms(query);
  return terms.length === 0 ? null : terms.join(' ');
}

export function lexicalTerms(query: string): string[] {
  return fulltextTerms(query, MAX_TERMS);
}
