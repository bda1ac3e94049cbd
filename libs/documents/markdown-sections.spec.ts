import { markdownToSections } from './markdown-sections';

describe('markdownToSections', () => {
  it('does not read front matter as a setext heading', () => {
    expect(markdownToSections('---\ntitle: x\n---\nBody text.')).toEqual([{ text: '---\ntitle: x\n---\nBody text.' }]);
  });

  it('recognises setext headings of both levels and strips closing hashes from ATX headings', () => {
    expect(markdownToSections('Top\n===\nintro\n\nSub\n---\ndetail\n## Closed ##\nend')).toEqual([
      { heading: 'Top', text: 'intro' },
      { heading: 'Top › Sub', text: 'detail' },
      { heading: 'Top › Closed', text: 'end' },
    ]);
  });

  it('ignores headings in tilde and backtick fences until the matching fence closes them', () => {
    const markdown = '# Code\n~~~\n# inside\n```\n# still inside\n~~~\nafter';
    expect(markdownToSections(markdown)).toEqual([
      { heading: 'Code', text: '~~~\n# inside\n```\n# still inside\n~~~\nafter' },
    ]);
  });

  it('keeps a trailing heading without text as text', () => {
    expect(markdownToSections('para\n# Last')).toEqual([{ text: 'para' }, { text: 'Last' }]);
  });

  it('does not take #hashtags for headings', () => {
    expect(markdownToSections('#hashtag text')).toEqual([{ text: '#hashtag text' }]);
  });
});
