import fc from 'fast-check';
import { searchTerms, snippetOf, toBooleanQuery } from './message-search-query';

describe('message search query', () => {
  it('keeps only indexable words, lower-cased and without stopwords or duplicates', () => {
    expect(searchTerms('The Quick quick fox, ab of Kubernetes!')).toEqual(['quick', 'fox', 'kubernetes']);
    expect(searchTerms('ab the of')).toEqual([]);
  });

  it('requires every word and lets the last one be a prefix', () => {
    expect(toBooleanQuery(['durable', 'workf'])).toBe('+durable +workf*');
    // A last word under 4 characters is matched whole: `abc*` would match a large share of all messages.
    expect(toBooleanQuery(['durable', 'abc'])).toBe('+durable +abc');
    expect(toBooleanQuery([])).toBeNull();
  });

  it('never lets a boolean operator through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (q) => {
        const query = toBooleanQuery(searchTerms(q));
        if (query !== null) expect(query).toMatch(/^(\+[\p{L}\p{N}]+ )*\+[\p{L}\p{N}]+\*?$/u);
      }),
    );
  });

  it('cuts a snippet around the first hit, on one line', () => {
    const content = `${'lorem ipsum '.repeat(30)}\nthe durable workflow\n${'dolor sit '.repeat(30)}`;
    const snippet = snippetOf(content, ['durable'], 60);
    expect(snippet).toContain('durable workflow');
    expect(snippet.startsWith('…') && snippet.endsWith('…')).toBe(true);
    expect(snippet).not.toContain('\n');
    expect(snippetOf('short text', ['absent'])).toBe('short text');
  });
});
