/** InnoDB's FULLTEXT parser ignores shorter tokens (`innodb_ft_min_token_size`, default 3) and longer ones. */
const MIN_TERM_CHARS = 3;
const MAX_TERM_CHARS = 84;
/** More terms only add rows to rank; a pasted paragraph keeps its first words. */
const MAX_TERMS = 32;

/**
 * The terms of a user's query for `MATCH … AGAINST (? IN BOOLEAN MODE)`: runs of letters and digits only, so no
 * boolean operator (`+ - > < ( ) ~ * " @`) survives, lower-cased, de-duplicated and joined by spaces, which boolean
 * mode treats as OR. `null` when nothing searchable is left. The result is always passed as a parameter.
 */
export function toBooleanQuery(query: string): string | null {
  const terms = lexicalTerms(query);
  return terms.length === 0 ? null : terms.join(' ');
}

export function lexicalTerms(query: string): string[] {
  const seen = new Set<string>();
  for (const match of query
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const term = match[0];
    const length = [...term].length;
    if (length < MIN_TERM_CHARS || length > MAX_TERM_CHARS) continue;
    seen.add(term);
    if (seen.size === MAX_TERMS) break;
  }
  return [...seen];
}
