import fc from 'fast-check';
import { createTokenCounter } from '../chat/token-counter';
import { chunkDocument, type ChunkOptions } from './chunk-text';
import type { ExtractedDocument } from './extracted-document';

const counter = createTokenCounter();
const countTokens = (text: string): number => counter.count(text);

function doc(...sections: { heading?: string; text: string }[]): ExtractedDocument {
  return { text: sections.map((section) => section.text).join('\n\n'), sections };
}

function options(chunkTokens: number, overlapTokens: number): ChunkOptions {
  return { chunkTokens, overlapTokens, countTokens };
}

const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'Zürich',
  'naïve',
  '東京',
  'data-set',
  '3.14',
  'x',
  'emoji😀',
  'end.',
];
const word = fc.constantFrom(...WORDS);
const sentence = fc
  .array(word, { minLength: 1, maxLength: 40 })
  .chain((words) => fc.constantFrom('.', '!', '?', '').map((end) => words.join(' ') + end));
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 8 }).map((sentences) => sentences.join(' '));
const sectionText = fc
  .array(fc.tuple(paragraph, fc.constantFrom('\n\n', '\n', ' ', '\n\n\n')), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.map(([text, separator]) => text + separator).join(''));
const document = fc
  .array(fc.record({ heading: fc.option(fc.constantFrom('Intro', 'Usage'), { nil: undefined }), text: sectionText }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((sections) => {
    // Number every word so that each occurs once and the order check below is unambiguous.
    let n = 0;
    const numbered = sections.map((s) => ({ ...s, text: s.text.replace(/[^\s.!?]+/g, (w) => `${w}${n++}`) }));
    return doc(...numbered.map((s) => (s.heading === undefined ? { text: s.text } : s)));
  });
const sizes = fc
  .integer({ min: 8, max: 120 })
  .chain((chunkTokens) => fc.tuple(fc.constant(chunkTokens), fc.integer({ min: 0, max: Math.floor(chunkTokens / 2) })));

describe('chunkDocument', () => {
  it('keeps a section that fits as one chunk, with its heading, and never merges sections', () => {
    const chunks = chunkDocument(
      doc({ heading: 'Intro', text: 'Hello there.' }, { text: 'Second part.' }),
      options(50, 10),
    );

    expect(chunks).toEqual([
      { seq: 0, heading: 'Intro', content: 'Hello there.', tokens: countTokens('Hello there.') },
      { seq: 1, content: 'Second part.', tokens: countTokens('Second part.') },
    ]);
  });

  it('skips sections without text', () => {
    expect(chunkDocument(doc({ text: '  \n\n ' }, { heading: 'H', text: '' }), options(50, 10))).toEqual([]);
  });

  it('cuts a long section at paragraph boundaries before sentence boundaries', () => {
    const first = 'One sentence here. Another sentence follows. And a third one.';
    const second = 'The second paragraph starts. It goes on a little. Then it ends.';
    const chunks = chunkDocument(doc({ heading: 'H', text: `${first}\n\n${second}` }), options(20, 0));

    expect(chunks.map((chunk) => chunk.content)).toEqual([first, second]);
    expect(chunks.every((chunk) => chunk.heading === 'H')).toBe(true);
  });

  it('repeats the last whole sentences of a chunk at the start of the next', () => {
    const sentences = Array.from({ length: 30 }, (_, index) => `Sentence number ${index} is here.`);
    const chunks = chunkDocument(doc({ text: sentences.join(' ') }), options(40, 10));

    expect(chunks.length).toBeGreaterThan(3);
    for (let index = 1; index < chunks.length; index++) {
      const previous = chunks[index - 1]!.content;
      const lastSentence = previous.slice(previous.lastIndexOf('Sentence number'));
      expect(chunks[index]!.content.startsWith(lastSentence)).toBe(true);
    }
  });

  it('splits a sentence longer than a chunk at words, and a word longer than a chunk inside it', () => {
    const longSentence = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
    const blob = 'QUJD'.repeat(500);
    const chunks = chunkDocument(doc({ text: `${longSentence} ${blob}` }), options(30, 5));

    expect(chunks.every((chunk) => countTokens(chunk.content) <= 30 && chunk.tokens <= 30)).toBe(true);
    expect(chunks.map((chunk) => chunk.content).join(' ')).toContain('word199');
    const blobParts = chunks.filter((chunk) => chunk.content.includes('QUJD'));
    expect(blobParts.length).toBeGreaterThan(10);
  });

  it('never cuts an emoji in half', () => {
    const chunks = chunkDocument(doc({ text: '😀'.repeat(300) }), options(10, 0));

    expect(chunks.map((chunk) => chunk.content).join('')).toBe('😀'.repeat(300));
    expect(chunks.every((chunk) => chunk.tokens <= 10)).toBe(true);
  });

  it('rejects an overlap that is not smaller than the chunk size', () => {
    expect(() => chunkDocument(doc({ text: 'x' }), options(10, 10))).toThrow(RangeError);
    expect(() => chunkDocument(doc({ text: 'x' }), options(0, 0))).toThrow(RangeError);
  });

  it('keeps every chunk within the limit, every word, their order, and a bounded overlap', () => {
    fc.assert(
      fc.property(document, sizes, (input, [chunkTokens, overlapTokens]) => {
        const chunks = chunkDocument(input, options(chunkTokens, overlapTokens));

        chunks.forEach((chunk, index) => {
          expect(chunk.seq).toBe(index);
          expect(chunk.content).not.toBe('');
          expect(chunk.content).toBe(chunk.content.trim());
          expect(chunk.tokens).toBe(countTokens(chunk.content));
          expect(chunk.tokens).toBeLessThanOrEqual(chunkTokens);
        });

        // Walk each section's words through its chunks in order; a chunk may start by repeating the previous
        // chunk's last words (the overlap), which must then not exceed the overlap allowance.
        let next = 0;
        for (const section of input.sections) {
          const words = section.text.split(/\s+/).filter(Boolean);
          if (words.length === 0) continue;
          let position = 0;
          let firstOfSection = true;
          while (position < words.length) {
            const chunk = chunks[next++]!;
            expect(chunk.heading).toBe(section.heading);
            const chunkWords = chunk.content.split(/\s+/);
            // Find where the chunk's new words begin: the longest suffix of the consumed words it starts with.
            let repeated = 0;
            if (!firstOfSection) {
              for (let count = Math.min(chunkWords.length - 1, position); count > 0; count--) {
                if (chunkWords.slice(0, count).join(' ') === words.slice(position - count, position).join(' ')) {
                  repeated = count;
                  break;
                }
              }
              expect(countTokens(chunkWords.slice(0, repeated).join(' '))).toBeLessThanOrEqual(overlapTokens * 1.5 + 4);
            }
            const fresh = chunkWords.slice(repeated);
            expect(fresh.join(' ')).toBe(words.slice(position, position + fresh.length).join(' '));
            position += fresh.length;
            firstOfSection = false;
          }
        }
        expect(next).toBe(chunks.length);
      }),
      { numRuns: 50 },
    );
  });

  it('stays fast on text the tokenizer handles in quadratic time (long runs of emoji or capitals)', () => {
    const text = `${'😀'.repeat(20_000)} ${'QUJD'.repeat(10_000)}\n\nTail sentence.`;
    const started = performance.now();
    const chunks = chunkDocument(doc({ text }), options(256, 32));

    expect(performance.now() - started).toBeLessThan(5000);
    expect(chunks.every((chunk) => chunk.tokens <= 256)).toBe(true);
    expect(chunks[chunks.length - 1]!.content).toContain('Tail sentence.');
    const fresh = chunks.map((chunk) => chunk.content).join('');
    expect(fresh).toContain('QUJD'.repeat(20));
  });

  it('is deterministic', () => {
    const input = doc({ heading: 'A', text: 'Some text. '.repeat(500) }, { text: 'More.\n\n'.repeat(100) });
    expect(chunkDocument(input, options(64, 16))).toEqual(chunkDocument(input, options(64, 16)));
  });

  it('chunks megabytes of prose quickly, tokenizing the text little more than once', () => {
    const paragraphText = Array.from(
      { length: 8 },
      (_, index) => `The retrieval pipeline splits document ${index} into overlapping chunks of similar size.`,
    ).join(' ');
    const text = Array.from({ length: 4000 }, (_, index) => `${paragraphText} Paragraph ${index}.`).join('\n\n');
    let counted = 0;
    const started = performance.now();
    const chunks = chunkDocument(doc({ text }), {
      chunkTokens: 512,
      overlapTokens: 64,
      countTokens: (value) => {
        counted += value.length;
        return countTokens(value);
      },
    });
    const seconds = (performance.now() - started) / 1000;

    expect(chunks.length).toBeGreaterThan(100);
    expect(counted).toBeLessThan(text.length * 1.35);
    // Generous: the tokenizer alone runs at several MB/s; this only catches quadratic behaviour.
    expect(seconds).toBeLessThan(10);
  });
});
