import type { GenerationOutput, TurnStep } from '#libs/contracts/chat-turn.contract';
import { chatTurnFixture } from './testing/chat-activity-kit';
import { createFinishCancelledTurn } from './finish-cancelled-turn.activity';
import { createMarkTurnFailed } from './mark-turn-failed.activity';
import { createPersistAssistantMessage } from './persist-assistant-message.activity';
import { createRecordAudit } from './record-audit.activity';

const steps: TurnStep[] = [
  { name: 'context', status: 'completed' },
  { name: 'generation', status: 'completed' },
  { name: 'persistence', status: 'running' },
];
const generation: GenerationOutput = {
  content: 'A workflow that survives crashes.',
  model: 'm-1',
  provider: 'p-1',
  finishReason: 'stop',
  usage: { promptTokens: 10, completionTokens: 6 },
  citations: [{ kind: 'web', title: 'T', url: 'https://x.test', snippet: 'S' }],
};

describe('persistAssistantMessage', () => {
  it('stores the answer, completes the turn, follows the branch, audits, then ends the stream', async () => {
    const kit = chatTurnFixture();
    const { persistAssistantMessage } = createPersistAssistantMessage(kit);
    const message = await persistAssistantMessage({ turn: kit.turn, generation, steps });
    expect(message).toMatchObject({
      id: 'm-answer',
      parentId: 'm-user',
      role: 'assistant',
      content: generation.content,
      status: 'complete',
      turnId: 't-1',
      citations: generation.citations,
    });
    expect(kit.store.turns.get('t-1')).toMatchObject({ status: 'completed', model: 'm-1' });
    expect(kit.store.turns.get('t-1')?.steps?.at(-1)).toEqual({ name: 'persistence', status: 'completed' });
    expect(kit.store.conversations.get('c-1')?.currentMessageId).toBe('m-answer');
    expect(kit.store.audit.map((row) => [row.action, row.targetId])).toEqual([['turn.completed', 't-1']]);
    expect(kit.events.events.map((e) => e.event)).toEqual(['step', 'step', 'citations', 'message.completed']);
    expect(kit.events.events.at(-1)).toEqual({ event: 'message.completed', data: { assistantMessage: message } });
  });

  it('writes nothing twice when it runs again (a retry or a replay)', async () => {
    const kit = chatTurnFixture();
    const { persistAssistantMessage } = createPersistAssistantMessage(kit);
    await persistAssistantMessage({ turn: kit.turn, generation, steps });
    const told = kit.events.events.length;
    const again = await persistAssistantMessage({
      turn: kit.turn,
      generation: { ...generation, content: 'other' },
      steps,
    });
    expect(again.content).toBe(generation.content);
    expect(kit.store.audit).toHaveLength(1);
    // Its stream already ended with `message.completed`: nothing is appended after it.
    expect(kit.events.events).toHaveLength(told);
  });

  it('replaces a partial answer an earlier, cancelled attempt kept', async () => {
    const kit = chatTurnFixture();
    kit.store.addMessage({
      id: 'm-answer',
      conversationId: 'c-1',
      role: 'assistant',
      status: 'cancelled',
      content: 'A wo',
    });
    const { persistAssistantMessage } = createPersistAssistantMessage(kit);
    const message = await persistAssistantMessage({ turn: kit.turn, generation, steps });
    expect(message).toMatchObject({ content: generation.content, status: 'complete' });
    expect(kit.store.audit).toHaveLength(1);
  });

  it('leaves the branch alone when the user switched branches meanwhile', async () => {
    const kit = chatTurnFixture();
    kit.store.conversations.get('c-1')!.currentMessageId = 'm-first';
    const { persistAssistantMessage } = createPersistAssistantMessage(kit);
    await persistAssistantMessage({ turn: kit.turn, generation, steps });
    expect(kit.store.conversations.get('c-1')?.currentMessageId).toBe('m-first');
  });
});

describe('finishCancelledTurn', () => {
  it('keeps the partial answer marked cancelled, shows it, audits once and ends the stream with it', async () => {
    const kit = chatTurnFixture();
    const { finishCancelledTurn } = createFinishCancelledTurn(kit);
    const partial = { content: 'A work', model: 'm-1', citations: [] };
    const message = await finishCancelledTurn({ turn: kit.turn, steps, partial });
    await finishCancelledTurn({ turn: kit.turn, steps, partial });
    expect(message).toMatchObject({ id: 'm-answer', content: 'A work', status: 'cancelled' });
    expect(kit.store.turns.get('t-1')?.status).toBe('cancelled');
    expect(kit.store.conversations.get('c-1')?.currentMessageId).toBe('m-answer');
    expect(kit.store.audit.map((row) => row.action)).toEqual(['turn.cancelled']);
    expect(kit.events.events.at(-1)).toEqual({
      event: 'turn.cancelled',
      data: { turnId: 't-1', assistantMessage: message },
    });
  });

  it('keeps the partial the stopped model call kept when the run has none (its result was lost)', async () => {
    const kit = chatTurnFixture();
    const partial = { content: 'Seen by the user', model: 'm-1', citations: [] };
    await kit.events.keepCancelled('t-1', 0, JSON.stringify(partial));
    const { finishCancelledTurn } = createFinishCancelledTurn(kit);
    const message = await finishCancelledTurn({ turn: kit.turn, steps });
    expect(message).toMatchObject({ id: 'm-answer', content: 'Seen by the user', status: 'cancelled' });
  });

  it("adds the kept text to the earlier tool rounds' when the generation was lost, else trusts the run", async () => {
    const kept = { content: ' and the stopped round', model: 'm-1', citations: [] };
    const rounds = { content: 'Earlier rounds', model: 'm-1', citations: [] };
    /** A turn whose stopped call kept `kept`, ended with the earlier rounds' partial. */
    const finish = async (generationLost: boolean) => {
      const kit = chatTurnFixture();
      await kit.events.keepCancelled('t-1', 1, JSON.stringify(kept));
      const ending = { turn: kit.turn, steps, partial: rounds, ...(generationLost ? { generationLost } : {}) };
      return (await createFinishCancelledTurn(kit).finishCancelledTurn(ending))?.content;
    };
    expect(await finish(true)).toBe('Earlier rounds and the stopped round');
    expect(await finish(false)).toBe('Earlier rounds');
  });

  it('ignores a kept partial that is not one', async () => {
    const kit = chatTurnFixture();
    await kit.events.keepCancelled('t-1', 0, '{"content":');
    await expect(createFinishCancelledTurn(kit).finishCancelledTurn({ turn: kit.turn, steps })).resolves.toBeNull();
    expect(kit.store.turns.get('t-1')?.status).toBe('cancelled');
  });

  it('ends with no message when nothing was generated', async () => {
    const kit = chatTurnFixture();
    const { finishCancelledTurn } = createFinishCancelledTurn(kit);
    await expect(finishCancelledTurn({ turn: kit.turn, steps })).resolves.toBeNull();
    expect(kit.store.conversations.get('c-1')?.currentMessageId).toBe('m-user');
    expect(kit.events.events).toEqual([{ event: 'turn.cancelled', data: { turnId: 't-1', assistantMessage: null } }]);
  });
});

describe('markTurnFailed and recordAudit', () => {
  it('records the failure with its reason and ends the stream with the failed step, then turn.failed', async () => {
    const kit = chatTurnFixture();
    const { markTurnFailed } = createMarkTurnFailed(kit);
    const failedSteps: TurnStep[] = [{ name: 'generation', status: 'failed', detail: 'no' }];
    await markTurnFailed({ turn: kit.turn, code: 'llm_bad_request', detail: 'no', steps: failedSteps });
    expect(kit.store.turns.get('t-1')).toMatchObject({
      status: 'failed',
      errorCode: 'llm_bad_request',
      errorDetail: 'no',
    });
    expect(kit.events.events).toEqual([
      { event: 'step', data: { name: 'generation', status: 'failed' } },
      { event: 'turn.failed', data: { code: 'llm_bad_request', detail: 'no' } },
    ]);
  });

  it('audits a turn outcome once, however often it runs', async () => {
    const kit = chatTurnFixture();
    const { recordAudit } = createRecordAudit(kit);
    await recordAudit({ turn: kit.turn, action: 'turn.failed', metadata: { step: 'generation' } });
    await recordAudit({ turn: kit.turn, action: 'turn.failed', metadata: { step: 'generation' } });
    expect(kit.store.audit).toEqual([
      expect.objectContaining({
        actorId: 'u-1',
        action: 'turn.failed',
        targetType: 'turn',
        targetId: 't-1',
        requestId: 'req-1',
        metadata: { conversationId: 'c-1', step: 'generation' },
      }),
    ]);
  });
});
