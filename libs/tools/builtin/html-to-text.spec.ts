import { htmlToText } from './html-to-text';

describe('htmlToText', () => {
  it('keeps the readable text, one block per line, and the title apart', () => {
    const html = `<html><head><title> A &lt;b&gt; title </title><meta charset="utf-8"></head>
      <body><nav>Home | About</nav><h2>Heading</h2><p>First   line
      continues<br>second line</p><ul><li>one</li><li>two</li></ul>
      <table><tr><td>a</td><td>b</td></tr></table></body></html>`;
    expect(htmlToText(html)).toEqual({
      title: 'A <b> title',
      text: 'Home | About\n\nHeading\n\nFirst line continues\nsecond line\n\none\n\ntwo\n\na b',
    });
  });

  it('drops scripts, styles, comments and unclosed scripts', () => {
    const html = '<p>kept</p><script type="module">if (a < b) { x() }</script><style>p{}</style><!-- c --><script>';
    expect(htmlToText(html)).toEqual({ text: 'kept' });
  });

  it('decodes named and numeric entities, leaving unknown ones alone', () => {
    expect(htmlToText('<p>&amp; &#233; &#x263A; &bogus; &#0;</p>').text).toBe('& é ☺ &bogus;');
  });
});
