import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { createTokenCounter } from './token-counter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ranks = require('js-tiktoken/ranks/o200k_base') as ConstructorParameters<typeof Tiktoken>[0];
const reference = new Tiktoken(ranks);
const whole = (text: string): number => reference.encode(text, [], []).length;

describe('createTokenCounter (o200k_base)', () => {
  const counter = createTokenCounter();

  it('counts ordinary text exactly as tiktoken encodes the whole text', () => {
    expect(counter.count('')).toBe(0);
    expect(counter.count('hello world')).toBe(2);
    const text = "It's 2026: the worker's durable workflows replay   history\n\n  — déjà vu, 東京, emoji 😀!\r\nEnd.";
    for (let i = 0; i < 3; i++) expect(counter.count(text.repeat(i + 1))).toBe(whole(text.repeat(i + 1)));
  });

  it('treats special-token strings in user text as plain text instead of throwing', () => {
    expect(counter.count('before <|endoftext|> after')).toBeGreaterThan(3);
    expect(counter.count('<|im_start|>system')).toBeGreaterThan(1);
  });

  it('matches the whole-text count on random text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(counter.count(text)).toBe(whole(text));
      }),
      { numRuns: 300 },
    );
  });

  it('counts long unbroken runs (hostile input) in short slices, close to the whole count', () => {
    // Whole-run BPE is quadratic in a piece's length (8 000 capitals took ~13 s): no piece the encoder sees may be
    // longer than a slice (plus one half of a surrogate pair). Checked on the encoder's input, not on a clock.
    const encode = jest.spyOn(Tiktoken.prototype, 'encode');
    let capitals: number, emoji: number, mixed: number;
    try {
      capitals = counter.count('A'.repeat(8000));
      emoji = counter.count(`x${'😀'.repeat(4000)}`); // odd offset: slices must not split surrogate pairs
      mixed = counter.count(`start ${'x'.repeat(5000)} end`);
      const longest = Math.max(...encode.mock.calls.map(([piece]) => piece.length));
      expect(encode.mock.calls.length).toBeGreaterThan(8000 / 33);
      expect(longest).toBeLessThanOrEqual(33);
    } finally {
      encode.mockRestore();
    }
    expect(capitals).toBeGreaterThan(8000 / 32);
    expect(emoji).toBeGreaterThanOrEqual(4000);
    expect(mixed).toBeGreaterThan(5000 / 32);
    // Words shorter than the run limit are counted whole, exactly as before.
    expect(counter.count('supercalifragilisticexpialidocious is long')).toBe(12); // as js-tiktoken counts it whole
  });
});
