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

/** Queries of more terms skip the two-terms phase: their pairs grow as n²/2. */
const MAX_PAIRED_TERMS = 8;

/**
 * The same terms as `toBooleanQuery`, but a row must hold at least two of them: every pair as a required group,
 * `(+a +b) (+a +c) (+b +c)`. `null` for fewer than two terms or more than eight. Over a large corpus an OR of a
 * few words matches thousands of rows, each read and ranked; rows sharing two of the words are far fewer, and they are
 * the ones an OR ranks first anyway.
 */
export function toTwoTermsQuery(query: string): string | null {
  const terms = lexicalTerms(query);
  if (terms.length < 2 || terms.length > MAX_PAIRED_TERMS) return null;
  const pairs: string[] = [];
  for (let i = 0; i < terms.length; i++) {
    for (let j = i + 1; j < terms.length; j++) pairs.push(`(+${terms[i]} +${terms[j]})`);
  }
  return pairs.join(' ');
}
