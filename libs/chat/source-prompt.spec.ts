import fc from 'fast-check';
import type { ContextMessage, ContextSource } from '../contracts/chat-turn.contract';
import { parseContextSources } from '../llm/offline-responder';
import { addSourcesToPrompt, assemblePrompt, CITATION_SNIPPET_CHARS } from './source-prompt';
import { createTokenCounter } from './token-counter';

const counter = createTokenCounter();
const history: ContextMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What does the handbook say about holidays?' },
];
const fileSource = (n: number, text = `Passage number ${n} about holidays.`): ContextSource => ({
  kind: 'file',
  title: `handbook.md › Part ${n}`,
  fileId: `f${n}`,
  chunkId: `c${n}`,
  text,
});

describe('addSourcesToPrompt', () => {
  it('numbers the sources in one system message after the system prompt, and cites them in that order', () => {
    const web: ContextSource = {
      kind: 'web',
      title: 'Holidays: a guide',
      url: 'https://example.com/h',
      text: 'Web\n\ntext',
    };
    const out = addSourcesToPrompt(history, 20, [fileSource(1), web], 4000, counter);
    expect(out.messages.map((m) => m.role)).toEqual(['system', 'system', 'user']);
    expect(out.messages[0]).toEqual(history[0]);
    expect(out.messages[2]).toEqual(history[1]);
    expect(out.citations).toEqual([
      {
        kind: 'file',
        title: 'handbook.md › Part 1',
        fileId: 'f1',
        chunkId: 'c1',
        snippet: 'Passage number 1 about holidays.',
      },
      { kind: 'web', title: 'Holidays: a guide', url: 'https://example.com/h', snippet: 'Web text' },
    ]);
    // The offline responder reads the same passages back, by number, with titles intact up to the ': '.
    expect(parseContextSources(out.messages)).toEqual([
      { number: 1, title: 'handbook.md › Part 1', text: 'Passage number 1 about holidays.' },
      { number: 2, title: 'Holidays - a guide', text: 'Web text' },
    ]);
    expect(out.promptTokens).toBeGreaterThan(20);
  });

  it('adds nothing when there are no sources or none fits', () => {
    expect(addSourcesToPrompt(history, 20, [], 4000, counter)).toEqual({
      messages: history,
      promptTokens: 20,
      citations: [],
    });
    expect(addSourcesToPrompt(history, 3990, [fileSource(1)], 4000, counter).citations).toEqual([]);
  });

  it('keeps within the budget, shortening the last passage that partly fits', () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const out = addSourcesToPrompt(history, 20, [fileSource(1), fileSource(2, long), fileSource(3)], 300, counter);
    expect(out.promptTokens).toBeLessThanOrEqual(300);
    expect(out.citations.map((c) => c.chunkId)).toEqual(['c1', 'c2']);
    expect(out.messages[1]!.content).toContain('[2] handbook.md › Part 2: word0 word1');
    expect(out.messages[1]!.content).toMatch(/…$/);
  });

  it('never exceeds the budget and cites exactly the passages in the prompt (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 12 }),
        fc.integer({ min: 50, max: 2000 }),
        (texts, budget) => {
          const sources = texts.map((text, i) => fileSource(i + 1, text));
          const out = addSourcesToPrompt(history, 20, sources, budget, counter);
          expect(out.promptTokens).toBeLessThanOrEqual(Math.max(budget, 20));
          const numbered = out.citations.length === 0 ? [] : (out.messages[1]!.content.match(/^\[\d+\]/gm) ?? []);
          expect(numbered.length).toBe(out.citations.length);
          for (const citation of out.citations)
            expect(citation.snippet.length).toBeLessThanOrEqual(CITATION_SNIPPET_CHARS + 1);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('assemblePrompt', () => {
  const long = (n: number): ContextMessage[] =>
    Array.from({ length: n }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `message ${i} ${'lorem ipsum '.repeat(20)}`,
    }));

  it('gives sources room by dropping the oldest history, never the latest message', () => {
    const messages: ContextMessage[] = [{ role: 'system', content: 'Be brief.' }, ...long(30)];
    const full = { messages, promptTokens: messages.reduce((sum, m) => sum + counter.count(m.content) + 4, 0) };
    const budget = full.promptTokens + 10; // the history alone fills the budget
    const out = assemblePrompt(full, [fileSource(1), fileSource(2)], budget, counter);
    expect(out.citations).toHaveLength(2);
    expect(out.promptTokens).toBeLessThanOrEqual(budget);
    expect(out.messages[0]).toEqual(messages[0]);
    expect(out.messages.at(-1)).toEqual(messages.at(-1));
    expect(out.messages.length).toBeLessThan(messages.length + 1);
  });

  it('leaves the context untouched without sources', () => {
    const messages = long(3);
    expect(assemblePrompt({ messages, promptTokens: 99 }, [], 1000, counter)).toEqual({
      messages,
      promptTokens: 99,
      citations: [],
    });
  });
});
