import { Tiktoken } from 'js-tiktoken/lite';

export interface TokenCounter {
  count(text: string): number;
}

type Ranks = ConstructorParameters<typeof Tiktoken>[0];
let shared: Tiktoken | undefined;

/**
 * Counts tokens with the o200k_base BPE (the vocabulary of current OpenAI models; a close, slightly
 * conservative estimate for others). The ranks load once per process (about a second), so workers warm it at start.
 */
export function createTokenCounter(): TokenCounter {
  if (!shared) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ranks = require('js-tiktoken/ranks/o200k_base') as Ranks | { default: Ranks };
    shared = new Tiktoken('default' in ranks ? ranks.default : ranks);
  }
  const encoder = shared;
  // Special-token strings (`<|endoftext|>` …) in user text are ordinary text here: never refused, never special.
  const encode = (text: string): number => encoder.encode(text, [], []).length;
  return {
    count(text) {
      if (!LONG_RUN.test(text)) return encode(text);
      // BPE merging is quadratic in the length of a piece the pre-tokenizer cannot split (8 000 capitals: ~13 s).
      // Long unbroken runs are counted in slices: a slight over-count, never a stall on hostile input.
      let total = 0;
      for (const part of text.split(LONG_RUN_SPLIT)) {
        if (part.length < LONG_RUN_CHARS) {
          if (part.length > 0) total += encode(part);
          continue;
        }
        for (let start = 0; start < part.length;) {
          let end = Math.min(start + RUN_SLICE_CHARS, part.length);
          if (isHighSurrogate(part.charCodeAt(end - 1)) && end < part.length) end += 1; // never split a pair
          total += encode(part.slice(start, end));
          start = end;
        }
      }
      return total;
    },
  };
}

const LONG_RUN_CHARS = 64;
const RUN_SLICE_CHARS = 32;
const LONG_RUN = /\S{64,}/;
const LONG_RUN_SPLIT = /(\S{64,})/;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
