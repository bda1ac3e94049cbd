import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { LoadedContext, PartialAnswer } from '#libs/contracts/chat-turn.contract';
import { LlmError } from '#libs/llm/llm.error';
import type { TurnCancelHints } from '#libs/events/turn-cancel-hints';
import type { GenerateRequest, LlmProvider } from '#libs/llm/llm-provider';
import { charCounter, chatTurnFixture, inActivity } from './testing/chat-activity-kit';
import { createGenerate } from './generate.activity';

const context: LoadedContext = { messages: [{ role: 'user', content: 'hi' }], droppedMessages: 0, promptTokens: 2 };

/** A provider that delivers `pieces` as fast as it can, then fails (`failWith`) or answers. */
function provider(pieces: string[], failWith?: Error, onPiece?: (index: number) => void): LlmProvider {
  return {
    name: 'burst',
    defaultModel: 'burst-1',
    async generate(req: GenerateRequest) {
      for (const [index, piece] of pieces.entries()) {
        onPiece?.(index);
        if (req.signal?.aborted) throw LlmError.aborted(); // as the real providers do: not retryable
        await req.onDelta?.(piece);
      }
      if (failWith) throw failWith;
      return { content: pieces.join(''), model: 'burst-1', provider: 'burst', finishReason: 'stop' };
    },
  };
}

function setup(llm: LlmProvider, cancelHints?: TurnCancelHints) {
  const kit = chatTurnFixture();
  const { generate } = createGenerate({
    ...kit,
    llm,
    tokenCounter: charCounter,
    contextTokens: 4096,
    maxOutputTokens: 256,
    ...(cancelHints ? { cancelHints } : {}),
  });
  return { ...kit, generate };
}

/** Cancel hints a spec sends by hand (`hint(turnId)`), as the API's would arrive through Redis. */
function handHints() {
  const watchers = new Map<string, () => void>();
  const hints: TurnCancelHints = {
    watch(turnId, onCancel) {
      watchers.set(turnId, onCancel);
      return () => watchers.delete(turnId);
    },
  };
  return { hints, hint: (turnId: string) => watchers.get(turnId)?.() };
}

const tokenText = (events: { event: string; data: unknown }[]) =>
  events
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');

describe('generate', () => {
  const pieces = Array.from({ length: 100 }, (_, i) => `t${i} `);

  it('streams batched token events whose text is the answer, between generation running and completed', async () => {
    const { generate, turn, events } = setup(provider(pieces));
    const out = await inActivity(() => generate({ turn, context }));
    expect(out).toMatchObject({ content: pieces.join(''), model: 'burst-1', provider: 'burst', citations: [] });
    expect(events.events[0]).toEqual({ event: 'step', data: { name: 'generation', status: 'running' } });
    expect(events.events.at(-1)).toEqual({
      event: 'step',
      data: { name: 'generation', status: 'completed', detail: 'burst/burst-1' },
    });
    expect(events.events.filter((e) => e.event === 'token').length).toBeLessThanOrEqual(
      Math.ceil(pieces.length / 32) + 1,
    );
    expect(tokenText(events.events)).toBe(out.content);
  });

  it('announces a retried generation with step generation restarted, before anything else', async () => {
    const { generate, turn, events } = setup(provider(['a']));
    await inActivity(() => generate({ turn, context }), { attempt: 2 });
    expect(events.events.slice(0, 2).map((e) => e.data)).toEqual([
      { name: 'generation', status: 'restarted' },
      { name: 'generation', status: 'running' },
    ]);
  });

  it('still streams the text generated before a failure, and hands the retry policy a typed failure', async () => {
    const unavailable = new LlmError('llm_unavailable', 'connection reset', { retryable: true, retryAfterMs: 1500 });
    const { generate, turn, events } = setup(provider(['x', 'y'], unavailable));
    const failure = await inActivity(() => generate({ turn, context })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'llm_unavailable', nonRetryable: false, nextRetryDelay: 1500 });
    expect(tokenText(events.events)).toBe('xy');
  });

  it('marks a refused request non-retryable', async () => {
    const refused = new LlmError('llm_bad_request', 'too long', { retryable: false, status: 400 });
    const { generate, turn } = setup(provider([], refused));
    await expect(inActivity(() => generate({ turn, context }))).rejects.toMatchObject({
      type: 'llm_bad_request',
      nonRetryable: true,
    });
  });

  it("on the user's cancel, ends with the partial answer in the CancelledFailure and writes nothing", async () => {
    const cancel = new AbortController();
    const { generate, turn, store } = setup(
      provider(['Dur', 'able', ' work'], undefined, (i) => i === 2 && cancel.abort()),
    );
    const failure = await inActivity(() => generate({ turn, context }), { cancel, cancelRequested: true }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CancelledFailure);
    expect((failure as CancelledFailure).details).toEqual([
      { content: 'Durable', model: 'burst-1', citations: [] } satisfies PartialAnswer,
    ]);
    expect(store.messages.has('m-answer')).toBe(false);
  });

  it('stopped by a cancel hint, keeps the partial answer, and a second run of the step stops with it', async () => {
    const { hints, hint } = handHints();
    let calls = 0;
    const counted: LlmProvider = {
      ...provider(['Kept', ' so', ' far', ' and more']),
      async generate(req) {
        calls++;
        return provider(['Kept', ' so', ' far', ' and more'], undefined, (i) => i === 3 && hint('t-1')).generate(req);
      },
    };
    const { generate, turn, events } = setup(counted, hints);
    const partial = { content: 'Kept so far', model: 'burst-1', citations: [] } satisfies PartialAnswer;
    const first = await inActivity(() => generate({ turn, context }), { isLocal: true }).catch((e: unknown) => e);
    expect(first).toMatchObject({ type: 'turn_cancel_hinted', nonRetryable: true, details: [partial] });
    expect(tokenText(events.events)).toBe('Kept so far');
    // The step runs again (its workflow task was lost before Temporal recorded the failure): the model is not called,
    // and the turn stops with the text the user saw.
    const again = await inActivity(() => generate({ turn, context }), { isLocal: true }).catch((e: unknown) => e);
    expect(again).toMatchObject({ type: 'turn_cancel_hinted', nonRetryable: true, details: [partial] });
    expect(calls).toBe(1);
  });

  it('treats an abort the user did not ask for (shutdown, timeout) as an error to retry', async () => {
    const cancel = new AbortController();
    const { generate, turn } = setup(provider(['a', 'b'], undefined, (i) => i === 1 && cancel.abort()));
    const failure = await inActivity(() => generate({ turn, context }), { cancel, cancelRequested: false }).catch(
      (error: unknown) => error,
    );
    expect(failure).not.toBeInstanceOf(CancelledFailure);
    // Retryable although the provider calls an abort final: otherwise a worker's SIGTERM fails the turn.
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'generation_interrupted', nonRetryable: false });
  });

  it('answers a replayed turn with the context model, timed, and streams nothing', async () => {
    const { generate, events } = setup(provider(['one ', 'two']));
    const replay = { replayId: 'r-1', conversationId: 'c-1', turnIndex: 0, armIndex: 1 };
    const out = await inActivity(() => generate({ replay, context: { ...context, model: 'm-arm' } }));
    expect(out).toMatchObject({ content: 'one two', citations: [] });
    expect(out.latencyMs).toEqual(expect.any(Number));
    expect(out.firstTokenMs).toBeLessThanOrEqual(out.latencyMs!);
    expect(events.events).toEqual([]);
  });
});
