import { Tiktoken } from 'js-tiktoken/lite';

export interface TokenCounter {
  count(text: string): number;
}

type Ranks = ConstructorParameters<typeof Tiktoken>[0] & { pat_str: string };

/** Pieces longer than this are counted in slices: BPE merging is quadratic in a piece's length. */
const LONG_PIECE_CHARS = 64;
const PIECE_SLICE_CHARS = 32;
/** Distinct pieces remembered; text repeats its words, so counting is mostly lookups. */
const PIECE_CACHE_SIZE = 200_000;

let shared: TokenCounter | undefined;

/**
 * Counts tokens with the o200k_base BPE (the vocabulary of current OpenAI models; a close, slightly conservative
 * estimate for others). The ranks load once per process (about a second), so workers warm it at start.
 *
 * Counting follows tiktoken's own two stages: the pre-tokenizer's regex splits the text into pieces and each piece is
 * encoded on its own, so summing cached per-piece counts gives exactly the whole-text count, about eight times faster
 * on prose (ingestion counts every chunk's tokens). Special-token strings (`<|endoftext|>` …) in user text are
 * ordinary text, never refused. A piece longer than 64 characters (a run the regex cannot split: 8 000 capitals took
 * ~13 s whole) is counted in slices: a slight over-count, never a stall on hostile input.
 */
export function createTokenCounter(): TokenCounter {
  if (!shared) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require('js-tiktoken/ranks/o200k_base') as Ranks | { default: Ranks };
    const ranks = 'default' in loaded ? loaded.default : loaded;
    const encoder = new Tiktoken(ranks);
    const pieces = new RegExp(ranks.pat_str, 'gu');
    const cache = new Map<string, number>();
    const encode = (piece: string): number => encoder.encode(piece, [], []).length;
    const countPiece = (piece: string): number => {
      const cached = cache.get(piece);
      if (cached !== undefined) return cached;
      let tokens = 0;
      if (piece.length <= LONG_PIECE_CHARS) {
        tokens = encode(piece);
        if (cache.size >= PIECE_CACHE_SIZE) cache.clear();
        cache.set(piece, tokens);
        return tokens;
      }
      for (let start = 0; start < piece.length;) {
        let end = Math.min(start + PIECE_SLICE_CHARS, piece.length);
        if (isHighSurrogate(piece.charCodeAt(end - 1)) && end < piece.length) end += 1; // never split a pair
        tokens += encode(piece.slice(start, end));
        start = end;
      }
      return tokens;
    };
    shared = {
      count(text) {
        // `match` with the global regex: one array of strings, cheaper than an iterator of match objects.
        const all = text.match(pieces);
        if (!all) return 0;
        let total = 0;
        for (const piece of all) total += countPiece(piece);
        return total;
      },
    };
  }
  return shared;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
