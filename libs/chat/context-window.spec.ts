import fc from 'fast-check';
import type { ContextMessage } from '../contracts/chat-turn.contract';
import { fitContextWindow, PER_MESSAGE_OVERHEAD_TOKENS } from './context-window';
import { createTokenCounter, TokenCounter } from './token-counter';

/** One token per word: easy to reason about in tests. */
const words: TokenCounter = { count: (text) => text.split(/\s+/).filter(Boolean).length };
const msg = (role: ContextMessage['role'], content: string): ContextMessage => ({ role, content });

describe('fitContextWindow', () => {
  it('keeps everything when the history fits, system prompt first', () => {
    const history = [msg('user', 'a b'), msg('assistant', 'c d e'), msg('user', 'f')];
    const window = fitContextWindow('be brief', history, 100, words);
    expect(window.messages).toEqual([msg('system', 'be brief'), ...history]);
    expect(window.droppedMessages).toBe(0);
    expect(window.promptTokens).toBe(2 + 2 + 3 + 1 + 4 * PER_MESSAGE_OVERHEAD_TOKENS);
  });

  it('drops the oldest messages first when over budget', () => {
    const history = [msg('user', 'one two three four'), msg('assistant', 'five six'), msg('user', 'seven')];
    const window = fitContextWindow(null, history, 2 + 1 + 2 * PER_MESSAGE_OVERHEAD_TOKENS, words);
    expect(window.messages).toEqual(history.slice(1));
    expect(window.droppedMessages).toBe(1);
  });

  it('never drops the latest message: it keeps its end when it alone is too long', () => {
    const long = Array.from({ length: 50 }, (_, index) => `w${index}`).join(' ');
    const window = fitContextWindow(
      null,
      [msg('user', 'old'), msg('user', long)],
      10 + PER_MESSAGE_OVERHEAD_TOKENS,
      words,
    );
    expect(window.messages).toHaveLength(1);
    expect(window.messages[0]!.content.endsWith('w49')).toBe(true);
    expect(words.count(window.messages[0]!.content)).toBeLessThanOrEqual(10);
  });

  it('stays within budget for any history (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 20, max: 200 }),
        (contents, budget) => {
          const history = contents.map((content, index) => msg(index % 2 ? 'assistant' : 'user', `x ${content}`));
          const window = fitContextWindow(null, history, budget, words);
          expect(window.messages.at(-1)).toBeDefined();
          expect(window.promptTokens).toBeLessThanOrEqual(budget);
          expect(window.messages.length + window.droppedMessages).toBe(history.length);
        },
      ),
    );
  });
});

describe('createTokenCounter', () => {
  it('counts with a real BPE tokenizer', () => {
    const counter = createTokenCounter();
    expect(counter.count('')).toBe(0);
    expect(counter.count('hello world')).toBe(2);
    expect(counter.count('antidisestablishmentarianism')).toBeGreaterThan(1);
  });
});
