import type { ToolContext } from '../tool-definition';
import { formatSearchResults, type SearchResult } from './search-results';
import { createSearchMyFilesTool } from './search-my-files-tool';
import { createWebSearchTool } from './web-search-tool';

const ctx: ToolContext = { userId: 'u1', turnId: 't1', signal: new AbortController().signal, fileIds: ['f1', 'f2'] };

const results: SearchResult[] = [
  { title: 'Tides', url: 'https://example.org/tides', text: ' The moon pulls the sea. ' },
  { title: 'Notes.pdf p. 3', text: 'Spring tides happen at new and full moon.' },
];

describe('formatSearchResults', () => {
  it('numbers the results so the model can cite them', () => {
    expect(formatSearchResults(results)).toBe(
      '[1] Tides (https://example.org/tides)\nThe moon pulls the sea.\n\n[2] Notes.pdf p. 3\nSpring tides happen at new and full moon.',
    );
  });

  it('leaves out whole results past the size limit and says how many', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ title: `R${i}`, text: 'x'.repeat(90) }));
    const text = formatSearchResults(many, 300);
    expect(text).toContain('[3] R2');
    expect(text).not.toContain('[4]');
    expect(text.endsWith('(7 more results left out for length)')).toBe(true);
  });

  it('cuts a single oversized first result instead of returning nothing', () => {
    const text = formatSearchResults([{ title: 'Big', text: 'y'.repeat(1000) }], 100);
    expect(text.startsWith('[1] Big\nyyy')).toBe(true);
    expect(text.length).toBeLessThan(150);
  });
});

describe('web_search tool', () => {
  it('passes the query and context to the injected search and formats what it returns', async () => {
    const search = jest.fn().mockResolvedValue(results);
    const output = await createWebSearchTool({ search }).run({ query: 'why tides' }, ctx);
    expect(search).toHaveBeenCalledWith('why tides', ctx);
    expect(output.content).toBe(formatSearchResults(results));
    expect(output.summary).toBe('2 web results for "why tides"');
  });

  it('bounds the query length in its schema', () => {
    const { parameters } = createWebSearchTool({ search: jest.fn() });
    expect(parameters.safeParse({ query: '' }).success).toBe(false);
    expect(parameters.safeParse({ query: 'q'.repeat(401) }).success).toBe(false);
  });
});

describe('search_my_files tool', () => {
  it("searches with the user's id and file ids from the context", async () => {
    const search = jest.fn().mockResolvedValue(results);
    const output = await createSearchMyFilesTool({ search }).run({ query: 'spring tides' }, ctx);
    expect(search).toHaveBeenCalledWith(
      'spring tides',
      expect.objectContaining({ userId: 'u1', fileIds: ['f1', 'f2'] }),
    );
    expect(output.content).toContain('[2] Notes.pdf p. 3\nSpring tides');
    expect(output.summary).toBe('2 passages for "spring tides"');
  });

  it('says so when nothing matches', async () => {
    const output = await createSearchMyFilesTool({ search: jest.fn().mockResolvedValue([]) }).run({ query: 'x' }, ctx);
    expect(output.content).toBe('No passages found in your files.');
  });
});
