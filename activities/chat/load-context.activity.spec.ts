import { ApplicationFailure } from '@temporalio/activity';
import { chatTurnFixture, charCounter, inActivity } from './testing/chat-activity-kit';
import { createLoadContext } from './load-context.activity';

describe('loadContext', () => {
  const setup = (contextTokens = 10_000) => {
    const kit = chatTurnFixture();
    const { loadContext } = createLoadContext({ ...kit, tokenCounter: charCounter, contextTokens, maxOutputTokens: 0 });
    return { ...kit, loadContext };
  };

  it('reads the branch up to the user message after the system prompt, and marks the turn running', async () => {
    const { loadContext, turn, store, events } = setup();
    const context = await inActivity(() => loadContext(turn));
    expect(context.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'],
      ['user', 'hello'],
      ['assistant', 'hi there'],
      ['user', 'what is a workflow?'],
    ]);
    expect(store.turns.get('t-1')?.status).toBe('running');
    expect(events.events.map((e) => e.event)).toEqual(['turn.started', 'step', 'step']);
    expect(events.events.at(-1)).toEqual({
      event: 'step',
      data: { name: 'context', status: 'completed', detail: `4 messages, ${context.promptTokens} tokens` },
    });
  });

  it('announces the turn only on its first attempt', async () => {
    const { loadContext, turn, events } = setup();
    await inActivity(() => loadContext(turn), { attempt: 2 });
    expect(events.events.map((e) => e.event)).toEqual(['step', 'step']);
  });

  it('drops the oldest messages that do not fit the budget', async () => {
    const { loadContext, turn, store } = setup(100);
    store.messages.get('m-first')!.content = 'a long opening message '.repeat(4);
    const context = await inActivity(() => loadContext(turn));
    expect(context.messages.at(-1)).toEqual({ role: 'user', content: 'what is a workflow?' });
    expect(context.droppedMessages).toBeGreaterThan(0);
  });

  it('fails for good when the conversation or the message is gone', async () => {
    const { loadContext, turn, store } = setup();
    store.messages.delete('m-user');
    const failure = await inActivity(() => loadContext(turn)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ContextNotFound', nonRetryable: true });
    store.conversations.clear();
    await expect(inActivity(() => loadContext(turn))).rejects.toMatchObject({ type: 'ContextNotFound' });
  });

  describe('for a replayed turn', () => {
    const replay = { replayId: 'r-1', conversationId: 'c-1', turnIndex: 1, armIndex: 0 };

    it('pinned: the original branch, the arm model; no turn marked running, no events', async () => {
      const { loadContext, store, events } = setup();
      const context = await inActivity(() =>
        loadContext({ replay, userMessageId: 'm-user', history: 'pinned', model: 'm-arm' }),
      );
      expect(context).toMatchObject({ model: 'm-arm', droppedMessages: 0 });
      expect(context.messages.map((m) => [m.role, m.content])).toEqual([
        ['system', 'Be brief.'],
        ['user', 'hello'],
        ['assistant', 'hi there'],
        ['user', 'what is a workflow?'],
      ]);
      expect(store.turns.get('t-1')?.status).toBe('queued');
      expect(events.events).toEqual([]);
    });

    it("trajectory: the branch's user messages, each followed by the arm's own stored answer", async () => {
      const { loadContext, store } = setup();
      await store.replays.insertResult({
        replayId: 'r-1',
        conversationId: 'c-1',
        turnIndex: 0,
        armIndex: 0,
        userMessageId: 'm-first',
        originalMessageId: 'm-reply',
        status: 'complete',
        content: 'my own first answer',
        model: 'm-arm',
        provider: 'p',
        citations: [],
        metrics: {
          latencyMs: 1,
          firstTokenMs: 1,
          promptTokens: 1,
          completionTokens: 1,
          length: 19,
          citations: 0,
          citationOverlap: null,
          refusal: false,
          failed: false,
        },
        originalMetrics: null,
        verdict: null,
        bucket: 'unchanged',
        errorCode: null,
        errorDetail: null,
      });
      const context = await inActivity(() =>
        loadContext({
          replay,
          userMessageId: 'm-user',
          history: 'trajectory',
          model: 'm-arm',
          systemPrompt: 'Be thorough.',
        }),
      );
      expect(context.messages.map((m) => [m.role, m.content])).toEqual([
        ['system', 'Be thorough.'],
        ['user', 'hello'],
        ['assistant', 'my own first answer'],
        ['user', 'what is a workflow?'],
      ]);
      // Another arm has no answers yet: its history is the user messages alone; a null system prompt means none.
      const other = await inActivity(() =>
        loadContext({
          replay: { ...replay, armIndex: 1 },
          userMessageId: 'm-user',
          history: 'trajectory',
          model: 'm-arm',
          systemPrompt: null,
        }),
      );
      expect(other.messages.map((m) => m.role)).toEqual(['user', 'user']);
    });

    it('fails for good when the message is gone', async () => {
      const { loadContext, store } = setup();
      store.messages.delete('m-user');
      await expect(
        inActivity(() => loadContext({ replay, userMessageId: 'm-user', history: 'pinned', model: 'm' })),
      ).rejects.toMatchObject({ type: 'ContextNotFound' });
    });
  });
});
