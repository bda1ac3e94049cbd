import type { ChatMessage } from './llm-provider';
import { LlmError } from './llm.error';
import { OfflineResponder, parseContextSources } from './offline-responder';

const systemWithSources = [
  'Answer from the sources below and cite them as [n].',
  'Sources:',
  '[1] Refund policy: Orders can be returned within 30 days. Refunds are paid to the original card within 5 days.',
  '[2] Shipping (https://shop.example/shipping): We ship worldwide. Express delivery takes two days.',
  'Tracking numbers are emailed when the parcel leaves.',
  '[3] Careers: We are hiring engineers.',
  '[4] Press kit: Logos and photos.',
  '',
  'Be concise.',
].join('\n');

describe('OfflineResponder', () => {
  const responder = new OfflineResponder();

  it('says plainly that no model is configured and quotes the question', async () => {
    const result = await responder.generate({
      messages: [
        { role: 'user', content: 'earlier question' },
        { role: 'assistant', content: 'earlier answer' },
        { role: 'user', content: 'What is the capital\nof France?' },
      ],
    });

    expect(result.content).toMatch(/^No language model is configured on this server/);
    expect(result.content).toContain('You asked: "What is the capital of France?"');
    expect(result.content).not.toContain('earlier question');
    expect(result.content).toContain('nothing more to go on');
    expect(result).toMatchObject({ provider: 'offline', model: 'offline', finishReason: 'stop' });
    expect(result.usage).toBeUndefined();
  });

  it('mentions the top context passages by their numbers, with their most relevant sentence', async () => {
    const result = await responder.generate({
      messages: [
        { role: 'system', content: systemWithSources },
        { role: 'user', content: 'How many days until my refund is paid?' },
      ],
    });

    expect(result.content).toContain('- [1] Refund policy: Refunds are paid to the original card within 5 days.');
    expect(result.content).toContain(
      '- [2] Shipping (https://shop.example/shipping): Express delivery takes two days.',
    );
    expect(result.content).toContain('- [3] Careers: We are hiring engineers.');
    expect(result.content).not.toContain('[4]');
    expect(result.content).toContain('(1 more source not shown.)');
  });

  it('streams word-sized deltas whose concatenation is the reply, and is deterministic', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: systemWithSources },
      { role: 'user', content: 'Do you ship worldwide?' },
    ];
    const deltas: string[] = [];

    const first = await responder.generate({ messages, onDelta: (d) => void deltas.push(d) });
    const second = await responder.generate({ messages });

    expect(deltas.length).toBeGreaterThan(20);
    expect(deltas.join('')).toBe(first.content);
    for (const delta of deltas) expect(delta.trim()).not.toMatch(/\s/);
    expect(second.content).toBe(first.content);
  });

  it('stops with llm_aborted when the signal fires mid-reply', async () => {
    const controller = new AbortController();
    const deltas: string[] = [];

    const outcome = responder.generate({
      messages: [{ role: 'user', content: 'hello there' }],
      signal: controller.signal,
      onDelta: (d) => {
        deltas.push(d);
        if (deltas.length === 3) controller.abort();
      },
    });

    await expect(outcome).rejects.toBeInstanceOf(LlmError);
    await expect(outcome).rejects.toMatchObject({ type: 'llm_aborted', retryable: false });
    expect(deltas).toHaveLength(3);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const onDelta = jest.fn();
    await expect(
      responder.generate({ messages: [{ role: 'user', content: 'hi' }], signal: AbortSignal.abort(), onDelta }),
    ).rejects.toMatchObject({ type: 'llm_aborted' });
    expect(onDelta).not.toHaveBeenCalled();
  });

  it('honours maxTokens', async () => {
    const result = await responder.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 });
    expect(result.content).toBe('No language model is ');
    expect(result.finishReason).toBe('length');
  });
});

describe('parseContextSources', () => {
  it('reads numbered lines from system messages only, with continuation lines up to a blank line', () => {
    const sources = parseContextSources([
      { role: 'system', content: systemWithSources },
      { role: 'user', content: '[9] Not a source: users cannot add sources' },
    ]);

    expect(sources.map((s) => s.number)).toEqual([1, 2, 3, 4]);
    expect(sources[1]).toEqual({
      number: 2,
      title: 'Shipping (https://shop.example/shipping)',
      text: 'We ship worldwide. Express delivery takes two days. Tracking numbers are emailed when the parcel leaves.',
    });
    expect(sources[3]?.text).toBe('Logos and photos.');
  });

  it('accepts a passage without a title and keeps the first of repeated numbers', () => {
    const sources = parseContextSources([
      { role: 'system', content: '[1] just some text\n[1] Duplicate: ignored' },
      { role: 'system', content: '[2] Second: from another system message' },
    ]);
    expect(sources).toEqual([
      { number: 1, title: '', text: 'just some text' },
      { number: 2, title: 'Second', text: 'from another system message' },
    ]);
  });
});
