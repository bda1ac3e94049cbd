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
  return { count: (text) => encoder.encode(text).length };
}
