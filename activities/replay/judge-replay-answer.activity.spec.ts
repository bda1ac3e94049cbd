import { LlmError } from '#libs/llm/llm.error';
import { judgeOrder } from '#libs/replay/replay-judge';
import { createJudgeReplayAnswer } from './judge-replay-answer.activity';
import { createStoreReplayResult } from './store-replay-result.activity';
import { inActivity, ref, replayFixture, scriptedLlm, TURNS } from './testing/replay-activity-kit';

const JUDGE = { model: 'm-judge', provider: 'p', against: 'original' as const, rubric: 'Be right.' };

/** A judge that prefers the answer containing `preferred`. */
const judgePreferring = (preferred: string) =>
  scriptedLlm((req) => {
    const prompt = req.messages.at(-1)!.content;
    const a = /\[Answer A\]\n([\s\S]*?)\n\n\[Answer B\]/.exec(prompt)![1]!;
    return JSON.stringify({ winner: a.includes(preferred) ? 'A' : 'B', reason: `prefers "${preferred}"` });
  });

describe('judgeReplayAnswer', () => {
  const setup = async (llm = judgePreferring('replayed')) => {
    const kit = replayFixture();
    const { storeReplayResult } = createStoreReplayResult(kit);
    for (const turn of TURNS) {
      for (const armIndex of [0, 1]) {
        await inActivity(() =>
          storeReplayResult({
            ref: ref(turn.index, armIndex),
            turn,
            answer: {
              status: 'complete',
              content: `replayed answer ${turn.index}/${armIndex}`,
              model: 'm',
              provider: 'p',
              citations: [],
            },
          }),
        );
      }
    }
    return { ...kit, llm, ...createJudgeReplayAnswer({ ...kit, llm }) };
  };

  it('shows the two answers in the seeded order, maps the verdict back to the arm, and records it with its bucket', async () => {
    const { judgeReplayAnswer, store, llm } = await setup();
    const seen: string[] = [];
    for (const turn of TURNS) {
      for (const armIndex of [0, 1]) {
        const verdict = await inActivity(() =>
          judgeReplayAnswer({ ref: ref(turn.index, armIndex), judge: JUDGE, seed: 5 }),
        );
        expect(verdict).toEqual({
          outcome: 'win',
          reason: 'prefers "replayed"',
          order: judgeOrder(5, ref(turn.index, armIndex)),
          judgeModel: 'm-judge',
          against: 'original',
        });
        seen.push(verdict!.order);
      }
    }
    // The judge read the user's message and both answers; the arm's where the order put it.
    const first = llm.calls[0]!;
    expect(first).toMatchObject({ model: 'm-judge', temperature: 0 });
    expect(first.messages[0]!.content).toContain('Rubric: Be right.');
    const prompt = first.messages[1]!.content;
    expect(prompt).toContain('[User message]\nWhat is a workflow?');
    const armFirst = seen[0] === 'arm-first';
    expect(prompt.indexOf('replayed answer 0/0') < prompt.indexOf('A durable function [1].')).toBe(armFirst);
    expect(store.replays.results.every((r) => r.verdict?.outcome === 'win' && r.bucket === 'improved')).toBe(true);
  });

  it('judges once: a step that runs again answers the recorded verdict without asking the model', async () => {
    const { judgeReplayAnswer, llm } = await setup();
    const first = await inActivity(() => judgeReplayAnswer({ ref: ref(0), judge: JUDGE, seed: 1 }));
    const again = await inActivity(() => judgeReplayAnswer({ ref: ref(0), judge: JUDGE, seed: 1 }));
    expect(again).toEqual(first);
    expect(llm.calls).toHaveLength(1);
  });

  it("compares with the first arm's answer when asked to, and skips the first arm itself", async () => {
    const { judgeReplayAnswer, llm } = await setup(judgePreferring('/0'));
    const judge = { ...JUDGE, against: 'first-arm' as const };
    expect(await inActivity(() => judgeReplayAnswer({ ref: ref(0, 0), judge, seed: 1 }))).toBeNull();
    const verdict = await inActivity(() => judgeReplayAnswer({ ref: ref(0, 1), judge, seed: 1 }));
    expect(verdict).toMatchObject({ outcome: 'loss', against: 'first-arm' });
    expect(llm.calls[0]!.messages[1]!.content).toContain('replayed answer 0/0');
  });

  it('records nothing when the reply holds no verdict, or there is nothing to compare with', async () => {
    const { judgeReplayAnswer, store } = await setup(scriptedLlm(() => 'Both are fine, really.'));
    expect(await inActivity(() => judgeReplayAnswer({ ref: ref(0), judge: JUDGE, seed: 1 }))).toBeNull();
    store.messages.delete('a-2');
    expect(await inActivity(() => judgeReplayAnswer({ ref: ref(1), judge: JUDGE, seed: 1 }))).toBeNull();
    expect(store.replays.results.every((r) => r.verdict === null)).toBe(true);
  });

  it("turns the judge model's errors into typed failures the retry policy reads", async () => {
    const failing = scriptedLlm(() => {
      throw new LlmError('llm_rate_limited', 'slow down', { retryable: true, status: 429, retryAfterMs: 1500 });
    });
    const { judgeReplayAnswer } = await setup(failing);
    await expect(inActivity(() => judgeReplayAnswer({ ref: ref(0), judge: JUDGE, seed: 1 }))).rejects.toMatchObject({
      type: 'llm_rate_limited',
      nonRetryable: false,
      nextRetryDelay: 1500,
    });
  });
});
