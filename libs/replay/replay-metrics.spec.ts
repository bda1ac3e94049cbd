import type { Citation } from '../contracts/chat-turn.contract';
import { bucketOf, citationOverlap, isRefusal, measureAnswer } from './replay-metrics';

const file = (chunkId: string): Citation => ({ kind: 'file', title: 'Handbook', fileId: 'f-1', chunkId, snippet: '…' });
const web = (url: string): Citation => ({ kind: 'web', title: url, url, snippet: '…' });

describe('replay metrics', () => {
  it('tells refusals from answers by how they open', () => {
    expect(isRefusal("I'm sorry, but I can't help with that.")).toBe(true);
    expect(isRefusal('I am sorry, but I am unable to share that.')).toBe(true);
    expect(isRefusal("I can't assist with this request.")).toBe(true);
    expect(isRefusal('As an AI language model, I cannot browse the web.')).toBe(true);
    expect(isRefusal('Sure. The handbook says travel is booked through the portal.')).toBe(false);
    // Quoting a refusal deep inside a helpful answer is not refusing.
    expect(
      isRefusal(`${'Here is the whole policy in detail. '.repeat(10)}Staff may say "I can't help with that".`),
    ).toBe(false);
  });

  it('measures citation overlap as Jaccard over the sources cited; null when neither cites anything', () => {
    expect(citationOverlap([], [])).toBeNull();
    expect(citationOverlap([file('c1'), web('https://a')], [file('c1'), web('https://a')])).toBe(1);
    expect(citationOverlap([file('c1'), file('c2')], [file('c2'), file('c3')])).toBeCloseTo(1 / 3);
    expect(citationOverlap([file('c1')], [])).toBe(0);
  });

  it('measures an answer: length, citations, refusal, failure and the timings and tokens it was given', () => {
    expect(
      measureAnswer(
        {
          content: 'Travel is booked through the portal [1].',
          citations: [file('c1')],
          failed: false,
          latencyMs: 812,
          firstTokenMs: 90,
          promptTokens: 120,
          completionTokens: 9,
        },
        [file('c1'), file('c2')],
      ),
    ).toEqual({
      latencyMs: 812,
      firstTokenMs: 90,
      promptTokens: 120,
      completionTokens: 9,
      length: 40,
      citations: 1,
      citationOverlap: 0.5,
      refusal: false,
      failed: false,
    });
    // A failed generation is a failure, never a refusal.
    expect(measureAnswer({ content: '', citations: [], failed: true })).toMatchObject({ failed: true, refusal: false });
  });

  it('buckets by the verdict when there is one, else by failures, refusals and lost citations', () => {
    const ok = measureAnswer({ content: 'An answer [1].', citations: [file('c1')], failed: false });
    const uncited = measureAnswer({ content: 'An answer.', citations: [], failed: false });
    const refused = measureAnswer({ content: "I'm sorry, but I can't help with that.", citations: [], failed: false });
    const failed = measureAnswer({ content: '', citations: [], failed: true });

    expect(bucketOf(failed, ok, { outcome: 'win' })).toBe('improved');
    expect(bucketOf(ok, ok, { outcome: 'loss' })).toBe('regressed');
    expect(bucketOf(ok, failed, { outcome: 'tie' })).toBe('unchanged');

    expect(bucketOf(failed, ok)).toBe('regressed');
    expect(bucketOf(refused, ok)).toBe('regressed');
    expect(bucketOf(ok, refused)).toBe('improved');
    expect(bucketOf(refused, failed)).toBe('unchanged');
    expect(bucketOf(uncited, ok)).toBe('regressed');
    expect(bucketOf(ok, uncited)).toBe('improved');
    expect(bucketOf(uncited, uncited)).toBe('unchanged');
    // Nothing to compare with (the original turn had no answer).
    expect(bucketOf(ok, null)).toBe('improved');
    expect(bucketOf(failed, null)).toBe('unchanged');
  });
});
