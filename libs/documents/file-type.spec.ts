import fc from 'fast-check';
import { DOCUMENT_MIME_TYPES, detectDocumentKind, safeFileName } from './file-type';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('detectDocumentKind', () => {
  it.each([
    ['notes.txt', 'plain words', 'txt'],
    ['README.MD', '# Title\n', 'md'],
    ['page.HTML', '<!DOCTYPE html><html><body>x</body></html>', 'html'],
    ['page.htm', '\n  <p>Hello</p>', 'html'],
    ['data.csv', 'a,b\n1,2\n', 'csv'],
    ['data.json', '\uFEFF  [1, 2]', 'json'],
    ['data.json', '{"a": 1}', 'json'],
  ] as const)('accepts %s with matching content as %s', (name, content, kind) => {
    expect(detectDocumentKind(name, text(content))).toEqual({ kind });
  });

  it('accepts a PDF and a DOCX by their signatures', () => {
    expect(detectDocumentKind('paper.pdf', text('%PDF-1.7\n...'))).toEqual({ kind: 'pdf' });
    expect(detectDocumentKind('Letter.DOCX', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0))).toEqual({ kind: 'docx' });
  });

  it.each(['archive.zip', 'program.exe', 'noextension', '.txt', 'image.png', 'doc.doc'])(
    'rejects %s as an unsupported type',
    (name) => {
      expect(detectDocumentKind(name, text('hello'))).toMatchObject({ error: 'unsupported_type' });
    },
  );

  it('rejects an empty file', () => {
    expect(detectDocumentKind('empty.txt', new Uint8Array())).toMatchObject({ error: 'empty' });
  });

  it.each([
    ['fake.pdf', text('just text')],
    ['fake.docx', text('%PDF-1.4')],
    ['binary.txt', text('%PDF-1.4\n%âãÏÓ')],
    ['zip.txt', bytes(0x50, 0x4b, 0x03, 0x04, 0x41)],
    ['elf.md', bytes(0x7f, 0x45, 0x4c, 0x46, 0x02)],
    ['image.csv', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)],
    ['nul.txt', text('abc\u0000def')],
    ['latin1.txt', bytes(0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b)],
    ['plain.html', text('no markup here, just words')],
    ['scalar.json', text('"just a string"')],
  ])('rejects %s whose content does not match its name', (name, head) => {
    const result = detectDocumentKind(name, head);
    expect(result).toMatchObject({ error: 'type_mismatch' });
    expect('detail' in result && result.detail.length > 10).toBe(true);
  });

  it('tolerates a multi-byte character cut off at the end of the head, but not in the middle', () => {
    const euro = text('price: €');
    expect(detectDocumentKind('a.txt', euro.subarray(0, euro.length - 1))).toEqual({ kind: 'txt' });
    expect(detectDocumentKind('a.txt', euro.subarray(0, euro.length - 2))).toEqual({ kind: 'txt' });
    const broken = Uint8Array.from([...euro.subarray(0, euro.length - 1), 0x41]);
    expect(detectDocumentKind('a.txt', broken)).toMatchObject({ error: 'type_mismatch' });
  });

  it('accepts any valid UTF-8 text without NUL as txt', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (value) => {
        fc.pre(!value.includes('\u0000') && !/^(%PDF-|PK|GIF8|\x7fELF)/.test(value));
        expect(detectDocumentKind('x.txt', text(value))).toEqual({ kind: 'txt' });
      }),
    );
  });

  it('names a media type for every kind', () => {
    expect(DOCUMENT_MIME_TYPES.pdf).toBe('application/pdf');
    expect(DOCUMENT_MIME_TYPES.docx).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(Object.keys(DOCUMENT_MIME_TYPES).sort()).toEqual(['csv', 'docx', 'html', 'json', 'md', 'pdf', 'txt']);
  });
});

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system32\\evil.txt', 'evil.txt'],
    ['C:\\Users\\me\\notes.md', 'notes.md'],
    ['C:notes.md', 'notes.md'],
    ['/abs/path/file.csv', 'file.csv'],
    ['na\u0000me\u0007.txt', 'name.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['\u2067hidden\u2069.txt', 'hidden.txt'],
    ['  spaced name.txt  ', 'spaced name.txt'],
    ['trailing dots.txt...', 'trailing dots.txt'],
    ['..', ''],
    ['../', ''],
    ['\u0000\u0001', ''],
    ['', ''],
    ['a\uD800b.txt', 'ab.txt'],
  ])('turns %j into %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('trims to 255 UTF-8 bytes, keeping the extension and whole characters', () => {
    const name = `${'é'.repeat(300)}.docx`;
    const safe = safeFileName(name);
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(255);
    expect(safe.endsWith('.docx')).toBe(true);
    expect(safe).toMatch(/^é+\.docx$/);
  });

  it('always returns a short name without separators or control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (input) => {
        const safe = safeFileName(input);
        expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(255);
        // eslint-disable-next-line no-control-regex -- asserting that control characters are gone
        expect(safe).not.toMatch(/[/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
        expect(safe === '.' || safe === '..').toBe(false);
      }),
    );
  });
});

describe('safeFileName on hostile names', () => {
  it('stays fast on long names made to make a regex backtrack, and keeps the last segment', () => {
    const started = performance.now();
    const name = `a${'. '.repeat(8000)}b`;
    expect(safeFileName(name)).toMatch(/b$/);
    expect(safeFileName(`${'. '.repeat(8000)}`)).toBe('');
    expect(safeFileName(`${'x/'.repeat(5000)}report.pdf`)).toBe('report.pdf');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
