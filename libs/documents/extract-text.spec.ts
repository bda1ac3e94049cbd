import JSZip from 'jszip';
import { makeDocx } from '../../test/fixtures/documents/make-docx';
import { makePdf } from '../../test/fixtures/documents/make-pdf';
import { DocumentError } from './document.error';
import { extractText } from './extract-text';

const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);

async function failure(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

describe('extractText', () => {
  describe('plain text', () => {
    it('returns the text as one section, without a BOM and with LF line ends', async () => {
      const document = await extractText('txt', utf8('\uFEFFHello\r\nworld\r\n'));
      expect(document).toEqual({ text: 'Hello\nworld', sections: [{ text: 'Hello\nworld' }] });
    });

    it('rejects invalid UTF-8 as corrupt', async () => {
      const error = await failure(extractText('txt', Uint8Array.from([0x61, 0xff, 0x62])));
      expect(error.code).toBe('corrupt');
    });

    it('rejects a file with only whitespace as empty', async () => {
      expect((await failure(extractText('md', utf8(' \n\t\n')))).code).toBe('empty');
    });

    it('rejects text longer than the limit as too large', async () => {
      const error = await failure(extractText('txt', utf8('x'.repeat(101)), { maxTextChars: 100 }));
      expect(error.code).toBe('too_large');
      expect(error.message).toContain('100');
    });
  });

  describe('markdown', () => {
    it('makes a section per heading and ignores headings inside code fences', async () => {
      const markdown = [
        'Preface text.',
        '# Guide',
        '## Install',
        'Run the installer.',
        '```sh',
        '# not a heading',
        '```',
        'Usage',
        '=====',
        'Call it.',
      ].join('\n');
      const document = await extractText('md', utf8(markdown));
      expect(document.sections).toEqual([
        { text: 'Preface text.' },
        { heading: 'Guide › Install', text: 'Run the installer.\n```sh\n# not a heading\n```' },
        { heading: 'Usage', text: 'Call it.' },
      ]);
    });
  });

  describe('html', () => {
    it('drops scripts and styles, decodes entities and keeps blocks on their own lines', async () => {
      const html = `<!doctype html><html><head><style>p { color: red }</style><script>alert("x")</script></head>
        <body><noscript>enable js</noscript><p>Intro &amp; more&nbsp;text</p>
        <h1>First</h1><p>One <b>bold</b>
        word.</p><ul><li>a</li><li>b</li></ul><svg><text>chart</text></svg>
        <h2>Second</h2><div>x<br>y</div><template><p>hidden</p></template>
        <table><tr><td>1</td><td>2</td></tr></table></body></html>`;
      const document = await extractText('html', utf8(html));
      expect(document.sections).toEqual([
        { text: 'Intro & more text' },
        { heading: 'First', text: 'One bold word.\n\na\nb' },
        { heading: 'First › Second', text: 'x\ny\n\n1\t2' },
      ]);
      expect(document.text).not.toMatch(/alert|color|enable js|chart|hidden/);
    });
  });

  describe('csv', () => {
    it('groups rows into sections that each repeat the header', async () => {
      const rows = Array.from({ length: 300 }, (_, index) => `${index},"name, ${index}",${index * 2}`);
      const document = await extractText('csv', utf8(['id,name,double', ...rows].join('\r\n')));
      expect(document.sections.length).toBeGreaterThan(2);
      for (const section of document.sections) expect(section.text.split('\n')[0]).toBe('id | name | double');
      expect(document.sections[0]!.text.split('\n')[1]).toBe('0 | name, 0 | 0');
      const body = document.sections.flatMap((section) => section.text.split('\n').slice(1));
      expect(body).toHaveLength(300);
    });

    it('detects semicolons and tabs as separators', async () => {
      expect((await extractText('csv', utf8('a;b\n1;2'))).text).toBe('a | b\n1 | 2');
      expect((await extractText('csv', utf8('a\tb\n1\t2'))).text).toBe('a | b\n1 | 2');
    });

    it('rejects broken quoting as corrupt', async () => {
      expect((await failure(extractText('csv', utf8('a,b\n"unclosed,2\n')))).code).toBe('corrupt');
    });
  });

  describe('json', () => {
    it('flattens to path: value lines in document order', async () => {
      const json = '{"user":{"name":"Ada","tags":["x","y"],"empty":{}},"count":2,"odd key":null,"nested":[[1]]}';
      const document = await extractText('json', utf8(json));
      expect(document.text).toBe(
        [
          'user.name: Ada',
          'user.tags[0]: x',
          'user.tags[1]: y',
          'user.empty: {}',
          'count: 2',
          '["odd key"]: null',
          'nested[0][0]: 1',
        ].join('\n'),
      );
    });

    it('handles very deep nesting without overflowing the stack', async () => {
      const depth = 20_000;
      const document = await extractText('json', utf8(`${'['.repeat(depth)}1${']'.repeat(depth)}`));
      expect(document.text.endsWith(': 1')).toBe(true);
    });

    it('rejects invalid JSON as corrupt', async () => {
      expect((await failure(extractText('json', utf8('{"a": ')))).code).toBe('corrupt');
    });
  });

  describe('docx', () => {
    it('makes sections from Word headings', async () => {
      const docx = await makeDocx([
        { text: 'Overview', style: 'Heading1' },
        { text: 'The first paragraph & more.' },
        { text: 'Details', style: 'Heading2' },
        { text: 'Second paragraph.' },
        { text: 'Third paragraph.' },
      ]);
      const document = await extractText('docx', docx);
      expect(document.sections).toEqual([
        { heading: 'Overview', text: 'The first paragraph & more.' },
        { heading: 'Overview › Details', text: 'Second paragraph.\n\nThird paragraph.' },
      ]);
    });

    it('rejects a damaged file as corrupt', async () => {
      const docx = await makeDocx([{ text: 'Hello' }]);
      expect((await failure(extractText('docx', docx.subarray(0, docx.length - 30)))).code).toBe('corrupt');
    });

    it('rejects a ZIP that is not a Word document as corrupt', async () => {
      const zip = new JSZip();
      zip.file('hello.txt', 'hi');
      const data = await zip.generateAsync({ type: 'uint8array' });
      expect((await failure(extractText('docx', data))).code).toBe('corrupt');
    });

    it('rejects a document that unpacks to more than the limit before unpacking it', async () => {
      const docx = await makeDocx([{ text: 'Hello' }], { 'word/media/big.bin': new Uint8Array(300_000) });
      const error = await failure(extractText('docx', docx, { maxUncompressedBytes: 200_000 }));
      expect(error.code).toBe('too_large');
    });

    it('rejects an absurdly compressed document (zip bomb)', async () => {
      const docx = await makeDocx([{ text: 'Hello' }], { 'word/media/zeros.bin': new Uint8Array(12 * 1024 * 1024) });
      const error = await failure(extractText('docx', docx));
      expect(error.code).toBe('too_large');
    });

    it('rejects a document whose parts unpack to more than their declared size', async () => {
      const docx = Buffer.from(await makeDocx([{ text: 'Hello '.repeat(2000) }]));
      // Lower the declared uncompressed size of word/document.xml in the central directory.
      const name = Buffer.from('word/document.xml');
      let at = docx.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      while (at > 0 && !docx.subarray(at + 46, at + 46 + name.length).equals(name)) {
        at = docx.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at - 1);
      }
      expect(at).toBeGreaterThan(0);
      docx.writeUInt32LE(100, at + 24);
      expect((await failure(extractText('docx', docx))).code).toBe('too_large');
    });

    it('rejects a document without text as empty', async () => {
      expect((await failure(extractText('docx', await makeDocx([{ text: '   ' }])))).code).toBe('empty');
    });
  });

  describe('pdf', () => {
    it('extracts the text of every page as a section', async () => {
      const pdf = makePdf([['Hello PDF world', 'Second line (with parens)'], ['Page two text']]);
      const document = await extractText('pdf', pdf);
      expect(document.pages).toBe(2);
      expect(document.sections).toEqual([
        { heading: 'Page 1', text: 'Hello PDF world\nSecond line (with parens)' },
        { heading: 'Page 2', text: 'Page two text' },
      ]);
    });

    it('rejects a password-protected PDF as encrypted', async () => {
      const error = await failure(extractText('pdf', makePdf([['secret']], { userPassword: 'hunter2' })));
      expect(error.code).toBe('encrypted');
      expect(error.message).toMatch(/password/i);
    });

    it('rejects a truncated PDF as corrupt', async () => {
      const pdf = makePdf([['Hello']]);
      expect((await failure(extractText('pdf', pdf.subarray(0, 80)))).code).toBe('corrupt');
    });

    it('rejects a PDF with no text as empty', async () => {
      expect((await failure(extractText('pdf', makePdf([[]])))).code).toBe('empty');
    });

    it('gives up on a PDF that takes longer than the time limit', async () => {
      const error = await failure(extractText('pdf', makePdf([['Hello']]), { pdfTimeoutMs: 1 }));
      expect(error.code).toBe('too_large');
    });

    it('stops at the text limit', async () => {
      const pdf = makePdf([['x'.repeat(80)], ['y'.repeat(80)]]);
      expect((await failure(extractText('pdf', pdf, { maxTextChars: 100 }))).code).toBe('too_large');
    });
  });
});
