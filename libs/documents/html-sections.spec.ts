import { htmlToSections } from './html-sections';

describe('htmlToSections', () => {
  it('keeps the whitespace of preformatted text and collapses it elsewhere', () => {
    expect(htmlToSections('<p>a \n\n  b</p><pre>  line 1\n    line 2</pre><p>c</p>')).toEqual([
      { text: 'a b\n\n  line 1\n    line 2\n\nc' },
    ]);
  });

  it('decodes entities in headings, heads each section with its heading path, keeps an empty leaf heading as text', () => {
    expect(
      htmlToSections('<h1>Q&amp;A</h1><h2>Setup &lt;1&gt;</h2><p>Do it.</p><h2>Empty</h2><h2>Next</h2><p>x</p>'),
    ).toEqual([
      { heading: 'Q&A › Setup <1>', text: 'Do it.' },
      { heading: 'Q&A', text: 'Empty' },
      { heading: 'Q&A › Next', text: 'x' },
    ]);
  });

  it('ignores everything inside nested svg, math and template elements', () => {
    const html =
      '<p>before</p><svg><g><text>one</text><svg><text>two</text></svg><text>three</text></g></svg><p>after</p>';
    expect(htmlToSections(html)).toEqual([{ text: 'before\n\nafter' }]);
  });

  it('survives unclosed and stray tags', () => {
    expect(htmlToSections('<div><p>one<p>two</span></div><li>three')).toEqual([{ text: 'one\n\ntwo\n\nthree' }]);
  });

  it('returns nothing for markup without text', () => {
    expect(htmlToSections('<html><head><script>x()</script></head><body><br><img src="a.png"></body></html>')).toEqual(
      [],
    );
  });
});
