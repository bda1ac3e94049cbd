import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { stoppedAtStepOf } from '#libs/contracts/temporal-failure';
import { LlmError } from '#libs/llm/llm.error';
import type { GenerateRequest, LlmProvider } from '#libs/llm/llm-provider';
import { createAnswerTurn } from './answer-turn.activity';
import { createGenerate } from './generate.activity';
import { createPersistAssistantMessage } from './persist-assistant-message.activity';
import { createPrepareTurn } from './prepare-turn.activity';
import { charCounter, chatTurnFixture, inActivity } from './testing/chat-activity-kit';

const passage = { chunkId: 'k-1', fileId: 'f-1', fileName: 'notes.md', heading: null, content: 'Workflows replay.' };

function setup(llm: LlmProvider) {
  const kit = chatTurnFixture();
  kit.store.readyFiles.set('u-1', ['f-1']);
  const deps = {
    ...kit,
    llm,
    retriever: { search: async () => ({ mode: 'hybrid' as const, chunks: [passage] }) },
    tokenCounter: charCounter,
    contextTokens: 10_000,
    maxOutputTokens: 256,
  };
  const { answerTurn } = createAnswerTurn({
    ...createPrepareTurn(deps),
    ...createGenerate(deps),
    ...createPersistAssistantMessage(deps),
  });
  return { kit, answerTurn };
}

/** A model that answers `content`, or fails with `failWith`; `prompts` gets every prompt's last message. */
function model(content: string, failWith?: Error) {
  const prompts: string[] = [];
  const llm: LlmProvider = {
    name: 'fake',
    defaultModel: 'fake-1',
    async generate(req: GenerateRequest) {
      prompts.push(req.messages.map((m) => m.content).join('\n'));
      if (req.signal?.aborted) throw LlmError.aborted();
      if (failWith) throw failWith;
      await req.onDelta?.(content);
      return { content, model: 'fake-1', provider: 'fake', finishReason: 'stop' };
    },
  };
  return { llm, prompts };
}

describe('answerTurn', () => {
  it('prepares, asks the model with the sources and persists the answer, with every step recorded', async () => {
    const { llm, prompts } = model('Workflows replay [1].');
    const { kit, answerTurn } = setup(llm);
    const answered = await inActivity(() => answerTurn(kit.turn), { isLocal: true });

    expect(answered.message).toMatchObject({ id: 'm-answer', content: 'Workflows replay [1].', status: 'complete' });
    expect(answered.message.citations).toEqual([
      expect.objectContaining({ kind: 'file', title: 'notes.md', fileId: 'f-1' }),
    ]);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('Workflows replay.');
    const expected = [
      { name: 'context', status: 'completed', detail: '4 messages, 57 tokens' },
      { name: 'retrieval', status: 'completed', detail: '1 passage, hybrid' },
      { name: 'web_search', status: 'skipped', detail: 'not requested' },
      { name: 'generation', status: 'completed', detail: 'fake/fake-1' },
      { name: 'persistence', status: 'completed' },
    ];
    expect(answered.steps).toEqual(expected);
    // The turn row holds the same steps as the workflow's progress, and one audit row.
    expect(kit.store.turns.get('t-1')).toMatchObject({ status: 'completed', steps: expected });
    expect(kit.store.audit.map((row) => row.action)).toEqual(['turn.completed']);
    expect(kit.events.events.at(-1)?.event).toBe('message.completed');
  });

  it('run again after its worker died, asks the model nothing and writes nothing twice', async () => {
    const { llm, prompts } = model('Once.');
    const { kit, answerTurn } = setup(llm);
    const first = await inActivity(() => answerTurn(kit.turn), { isLocal: true });
    const again = await inActivity(() => answerTurn(kit.turn), { isLocal: true });
    expect(again).toEqual(first);
    expect(prompts).toHaveLength(1);
    expect(kit.store.audit).toHaveLength(1);
  });

  it('fails with the model’s failure, unchanged, and where the turn stopped', async () => {
    const { llm } = model('', LlmError.fromStatus(400, 'the prompt is too long'));
    const { kit, answerTurn } = setup(llm);
    const failure = await inActivity(() => answerTurn(kit.turn), { isLocal: true }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: TURN_FAILURE_TYPES.llmBadRequest, nonRetryable: true });
    expect(stoppedAtStepOf(failure)).toEqual({
      stoppedAt: 'generation',
      steps: expect.arrayContaining([
        { name: 'context', status: 'completed', detail: '4 messages, 57 tokens' },
        { name: 'generation', status: 'running' },
        { name: 'persistence', status: 'pending' },
      ]),
    });
    expect(kit.store.turns.get('t-1')?.status).toBe('running');
  });

  it('fails at the history when the conversation is gone, as a plain error would be retried', async () => {
    const { llm, prompts } = model('never');
    const { kit, answerTurn } = setup(llm);
    kit.store.conversations.delete('c-1');
    const failure = await inActivity(() => answerTurn(kit.turn), { isLocal: true }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: TURN_FAILURE_TYPES.contextNotFound });
    expect(stoppedAtStepOf(failure)?.stoppedAt).toBe('context');
    expect(prompts).toHaveLength(0);

    const { kit: other, answerTurn: again } = setup(model('x').llm);
    other.db.transaction = () => Promise.reject(new TypeError('MySQL went away'));
    const plain = await inActivity(() => again(other.turn), { isLocal: true }).catch((e: unknown) => e);
    // A plain error becomes the failure Temporal would have made of it: retryable, typed by its class.
    expect(plain).toMatchObject({ type: 'TypeError', nonRetryable: false, message: 'MySQL went away' });
    expect(stoppedAtStepOf(plain)?.stoppedAt).toBe('persistence');
  });

  it('cancelled by its user, stays a cancellation and keeps the partial answer first in its details', async () => {
    const cancel = new AbortController();
    const llm: LlmProvider = {
      name: 'slow',
      defaultModel: 'slow-1',
      async generate(req: GenerateRequest) {
        await req.onDelta?.('Half an ');
        cancel.abort();
        throw LlmError.aborted();
      },
    };
    const { kit, answerTurn } = setup(llm);
    const failure = await inActivity(() => answerTurn(kit.turn), {
      isLocal: true,
      cancel,
      cancelRequested: true,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CancelledFailure);
    const details = (failure as CancelledFailure).details;
    expect(details[0]).toMatchObject({ content: 'Half an ' });
    expect(stoppedAtStepOf(failure)?.stoppedAt).toBe('generation');
  });
});
