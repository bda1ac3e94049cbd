/** InnoDB's FULLTEXT parser skips shorter tokens (`innodb_ft_min_token_size`, default 3) and longer ones. */
const MIN_TERM_CHARS = 3;
const MAX_TERM_CHARS = 84;
/**
 * InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). They are not indexed: a required
 * stopword (`+the`) matches nothing at all, and an optional one adds nothing, so they are dropped.
 */
const STOPWORDS = new Set(
  'a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www'.split(
    ' ',
  ),
);

/**
 * The words of a user's search as InnoDB's FULLTEXT index holds them: runs of letters and digits (so no boolean
 * operator — `+ - > < ( ) ~ * " @` — survives), NFKC-normalised and lower-cased, without stopwords and words the
 * index skips, de-duplicated, at most `maxTerms` (a pasted paragraph keeps its first words). Callers put them into
 * `MATCH … AGAINST (? IN BOOLEAN MODE)` as a parameter, never into SQL text.
 */
export function fulltextTerms(query: string, maxTerms: number): string[] {
  const terms = new Set<string>();
  for (const match of query
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const term = match[0];
    const length = [...term].length;
    if (length < MIN_TERM_CHARS || length > MAX_TERM_CHARS || STOPWORDS.has(term)) continue;
    terms.add(term);
    if (terms.size === maxTerms) break;
  }
  return [...terms];
}
