import type { ReplayProgress } from '#libs/contracts/replay.contract';
import { createStoreReplayResult } from './store-replay-result.activity';
import { createSummarizeReplay } from './summarize-replay.activity';
import { ARMS, inActivity, ref, replayFixture, TURNS } from './testing/replay-activity-kit';

const progress = (status: ReplayProgress['status']): ReplayProgress => ({
  status,
  conversations: { total: 1, done: 1, failed: 0, cancelled: 0, running: 0, pending: 0 },
  turns: { done: 2, failed: 0 },
  tokens: { prompt: 80, completion: 16 },
  startedAt: '2026-01-01T00:00:00.000Z',
  etaSeconds: 0,
  runs: 1,
});

describe('summarizeReplay', () => {
  const setup = async () => {
    const kit = replayFixture();
    await kit.store.replays.create({
      id: 'r-1',
      createdBy: 'u-admin',
      status: 'running',
      mode: 'pinned',
      selection: { conversationIds: 1 },
      arms: ARMS.slice(0, 1),
      judge: null,
      limits: { concurrency: 1, conversationsPerRun: 500, providers: {} },
      seed: 1,
      totalConversations: 1,
      workflowId: 'replay:r-1',
      idempotencyKey: null,
      requestHash: 'h',
      requestId: 'req-r',
    });
    const { storeReplayResult } = createStoreReplayResult(kit);
    for (const turn of TURNS) {
      await inActivity(() =>
        storeReplayResult({
          ref: ref(turn.index),
          turn,
          answer: {
            status: 'complete',
            content: 'An answer.',
            model: 'm-new',
            provider: 'p',
            citations: [],
            usage: { promptTokens: 40, completionTokens: 8 },
          },
        }),
      );
    }
    return { ...kit, ...createSummarizeReplay(kit) };
  };

  it('sums the results up, ends the replay with its summary and progress, and audits it, once', async () => {
    const { summarizeReplay, store } = await setup();
    const args = { replayId: 'r-1', createdBy: 'u-admin', requestId: 'req-r', status: 'completed' as const };
    expect(await inActivity(() => summarizeReplay({ ...args, progress: progress('completed') }))).toEqual({
      ended: true,
    });
    const replay = store.replays.replays.get('r-1')!;
    expect(replay).toMatchObject({
      status: 'completed',
      progress: progress('completed'),
      completedAt: expect.any(Date),
    });
    expect(replay.summary!.arms[0]).toMatchObject({
      arm: 0,
      turns: 2,
      tokens: { prompt: 80, completion: 16, total: 96 },
    });
    expect(replay.summary!.original).toMatchObject({ turns: 2, missing: 0 });
    expect(store.audit).toEqual([
      expect.objectContaining({
        actorId: 'u-admin',
        action: 'replay.completed',
        targetType: 'replay',
        targetId: 'r-1',
        requestId: 'req-r',
      }),
    ]);
    // Run again (a retried step): nothing changes, nothing is audited twice.
    expect(
      await inActivity(() => summarizeReplay({ ...args, status: 'failed', progress: progress('failed') })),
    ).toEqual({
      ended: false,
    });
    expect(store.replays.replays.get('r-1')!.status).toBe('completed');
    expect(store.audit).toHaveLength(1);
  });

  it('marks the conversations a cancel left unfinished as cancelled', async () => {
    const { summarizeReplay, store } = await setup();
    await inActivity(() =>
      summarizeReplay({
        replayId: 'r-1',
        createdBy: 'u-admin',
        requestId: 'req-r',
        status: 'cancelled',
        progress: progress('cancelled'),
      }),
    );
    expect(store.replays.conversations.map((c) => c.status)).toEqual(['cancelled']);
    expect(store.audit.map((row) => row.action)).toEqual(['replay.cancelled']);
  });
});
