import { createLoadReplayTurns } from './load-replay-turns.activity';
import { inActivity, replayFixture } from './testing/replay-activity-kit';

describe('loadReplayTurns', () => {
  const setup = () => {
    const kit = replayFixture();
    return { ...kit, ...createLoadReplayTurns(kit) };
  };

  it("lists the current branch's user turns with their answers, senders and files; marks the conversation running", async () => {
    const { loadReplayTurns, store } = setup();
    expect(await inActivity(() => loadReplayTurns({ replayId: 'r-1', conversationId: 'c-1' }))).toEqual([
      { index: 0, userMessageId: 'q-1', originalMessageId: 'a-1', senderId: 'u-sender' },
      { index: 1, userMessageId: 'q-2', originalMessageId: 'a-2', senderId: 'u-sender', fileIds: ['f-1'] },
    ]);
    expect(store.replays.conversations[0]).toMatchObject({ status: 'running', startedAt: expect.any(Date) });
  });

  it('keeps to maxTurns; a last turn without an answer has none; without a turn row the owner is the sender', async () => {
    const { loadReplayTurns, store } = setup();
    store.addMessage({ id: 'q-3', conversationId: 'c-1', parentId: 'a-2', content: 'Unanswered?' });
    store.conversations.get('c-1')!.currentMessageId = 'q-3';
    const turns = await inActivity(() => loadReplayTurns({ replayId: 'r-1', conversationId: 'c-1' }));
    expect(turns.at(-1)).toEqual({ index: 2, userMessageId: 'q-3', originalMessageId: null, senderId: 'u-owner' });
    expect(
      await inActivity(() => loadReplayTurns({ replayId: 'r-1', conversationId: 'c-1', maxTurns: 1 })),
    ).toHaveLength(1);
  });

  it('answers no turns for an empty conversation, and fails for good when the conversation is gone', async () => {
    const { loadReplayTurns, store } = setup();
    store.conversations.get('c-1')!.currentMessageId = null;
    expect(await inActivity(() => loadReplayTurns({ replayId: 'r-1', conversationId: 'c-1' }))).toEqual([]);
    store.conversations.clear();
    await expect(inActivity(() => loadReplayTurns({ replayId: 'r-1', conversationId: 'c-1' }))).rejects.toMatchObject({
      type: 'conversation_gone',
      nonRetryable: true,
    });
  });
});
