import { fulltextTerms } from '#libs/db/fulltext-terms';

const MAX_TERMS = 16;
/** A shorter last word is matched whole: `abc*` would match a large share of every message ever written. */
const MIN_PREFIX_CHARS = 4;

/** The words of a message search as InnoDB indexes them (see fulltextTerms). */
export function searchTerms(query: string): string[] {
  return fulltextTerms(query, MAX_TERMS);
}

/**
 * `MATCH … AGAINST (? IN BOOLEAN MODE)` text: every word required, the last one also as a prefix (so a search typed
 * as you go finds "kubernetes" from "kuber"). `null` when no searchable word is left.
 */
export function toBooleanQuery(terms: readonly string[]): string | null {
  if (terms.length === 0) return null;
  const prefixed = (term: string, last: boolean): string =>
    last && [...term].length >= MIN_PREFIX_CHARS ? `+${term}*` : `+${term}`;
  return terms.map((term, i) => prefixed(term, i === terms.length - 1)).join(' ');
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
