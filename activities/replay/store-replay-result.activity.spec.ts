import type { ReplayAnswer } from '#libs/contracts/replay.contract';
import { createStoreReplayResult } from './store-replay-result.activity';
import { inActivity, ref, replayFixture, TURNS } from './testing/replay-activity-kit';

const answer = (content: string, over: Partial<Extract<ReplayAnswer, { status: 'complete' }>> = {}): ReplayAnswer => ({
  status: 'complete',
  content,
  model: 'm-new',
  provider: 'p',
  citations: [],
  usage: { promptTokens: 40, completionTokens: 8 },
  latencyMs: 500,
  firstTokenMs: 60,
  ...over,
});

describe('storeReplayResult', () => {
  const setup = () => {
    const kit = replayFixture();
    return { ...kit, ...createStoreReplayResult(kit) };
  };

  it("keeps the answer with its metrics and the original's, bucketed against the original", async () => {
    const { storeReplayResult, store } = setup();
    const stored = await inActivity(() =>
      storeReplayResult({ ref: ref(0), turn: TURNS[0]!, answer: answer('A durable function, uncited.') }),
    );
    expect(stored).toEqual({
      stored: true,
      status: 'complete',
      bucket: 'regressed',
      promptTokens: 40,
      completionTokens: 8,
    });
    expect(store.replays.results).toEqual([
      expect.objectContaining({
        replayId: 'r-1',
        conversationId: 'c-1',
        turnIndex: 0,
        armIndex: 0,
        userMessageId: 'q-1',
        originalMessageId: 'a-1',
        status: 'complete',
        content: 'A durable function, uncited.',
        model: 'm-new',
        metrics: {
          latencyMs: 500,
          firstTokenMs: 60,
          promptTokens: 40,
          completionTokens: 8,
          length: 28,
          citations: 0,
          citationOverlap: 0,
          refusal: false,
          failed: false,
        },
        // The original cited a source; the turn took 850 ms from request to answer.
        originalMetrics: expect.objectContaining({ citations: 1, latencyMs: 850, completionTokens: 6 }),
        verdict: null,
        // It lost the original's citation.
        bucket: 'regressed',
      }),
    ]);
    // Nothing was written into the conversation.
    expect(store.messages.size).toBe(4);
  });

  it('keeps a failure with its reason', async () => {
    const { storeReplayResult, store } = setup();
    const stored = await inActivity(() =>
      storeReplayResult({
        ref: ref(1),
        turn: TURNS[1]!,
        answer: { status: 'failed', code: 'llm_bad_request', detail: 'refused' },
      }),
    );
    expect(stored).toMatchObject({ status: 'failed', bucket: 'regressed', promptTokens: 0 });
    expect(store.replays.results[0]).toMatchObject({
      status: 'failed',
      content: '',
      errorCode: 'llm_bad_request',
      errorDetail: 'refused',
      metrics: expect.objectContaining({ failed: true, length: 0 }),
    });
  });

  it('stores once: a step that runs again keeps the first answer', async () => {
    const { storeReplayResult, store } = setup();
    await inActivity(() => storeReplayResult({ ref: ref(0), turn: TURNS[0]!, answer: answer('first') }));
    const again = await inActivity(() => storeReplayResult({ ref: ref(0), turn: TURNS[0]!, answer: answer('second') }));
    expect(again).toMatchObject({ stored: false, status: 'complete' });
    expect(store.replays.results.map((r) => r.content)).toEqual(['first']);
  });

  it("buckets later arms against the first arm's answer when the judge compares arms", async () => {
    const { storeReplayResult, store } = setup();
    const cited = [{ kind: 'file' as const, title: 'Guide', fileId: 'f-1', chunkId: 'k-9', snippet: '…' }];
    await inActivity(() =>
      storeReplayResult({ ref: ref(0, 0), turn: TURNS[0]!, answer: answer('first arm'), against: 'first-arm' }),
    );
    const second = await inActivity(() =>
      storeReplayResult({
        ref: ref(0, 1),
        turn: TURNS[0]!,
        answer: answer('second arm [1]', { citations: cited }),
        against: 'first-arm',
      }),
    );
    // The first arm cited nothing, the second did: better than the first arm (against the original it would tie).
    expect(second.bucket).toBe('improved');
    expect(store.replays.results[1]!.metrics.citationOverlap).toBe(0);
  });
});
