/** InnoDB's FULLTEXT parser skips shorter tokens (`innodb_ft_min_token_size`, default 3) and longer ones. */
const MIN_TERM_CHARS = 3;
const MAX_TERM_CHARS = 84;
const MAX_TERMS = 16;
/**
 * InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). A required stopword (`+the`)
 * matches nothing at all, so these are dropped from the query rather than required.
 */
const STOPWORDS = new Set(
  'a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www'.split(
    ' ',
  ),
);

/**
 * The words of a search as InnoDB indexes them: runs of letters and digits (so no boolean operator — `+ - > < ( )
 * ~ * " @` — survives), lower-cased, without stopwords and words the index skips, de-duplicated.
 */
export function searchTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const match of query
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const term = match[0];
    const length = [...term].length;
    if (length < MIN_TERM_CHARS || length > MAX_TERM_CHARS || STOPWORDS.has(term)) continue;
    terms.add(term);
    if (terms.size === MAX_TERMS) break;
  }
  return [...terms];
}

/**
 * `MATCH … AGAINST (? IN BOOLEAN MODE)` text: every word required, the last one also as a prefix (so a search typed
 * as you go finds "kubernetes" from "kuber"). `null` when no searchable word is left.
 */
export function toBooleanQuery(terms: readonly string[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((term, i) => (i === terms.length - 1 ? `+${term}*` : `+${term}`)).join(' ');
}

/** Up to `width` characters of `content` around the first place one of `terms` occurs, on one line. */
export function snippetOf(content: string, terms: readonly string[], width = 160): string {
  const text = content.replace(/\s+/g, ' ').trim();
  const lower = text.toLowerCase();
  const hits = terms.map((term) => lower.indexOf(term)).filter((at) => at >= 0);
  const hit = hits.length > 0 ? Math.min(...hits) : 0;
  if (text.length <= width) return text;
  const start = Math.max(0, Math.min(hit - Math.floor(width / 3), text.length - width));
  const end = start + width;
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}
