import type { ReplayProgress } from '#libs/contracts/replay.contract';
import { collectReplaySummary } from '#libs/replay/collect-replay-summary';
import { type ReplayActivityContext, type ReplayAuditDeps, replayLogger } from './replay-activity-deps';

export function createSummarizeReplay(deps: ReplayActivityContext & ReplayAuditDeps) {
  const { db } = deps;
  return {
    /**
     * Ends the replay: sums its stored results up per arm (win/tie/loss with a confidence interval, buckets, tokens,
     * latency percentiles), and writes the summary, the final status and progress and the `replay.<status>` audit row
     * in one transaction. Conversations a cancel left unfinished are marked cancelled. Runs again harmlessly: a replay
     * that already ended is not changed and not audited twice.
     */
    async summarizeReplay(args: {
      replayId: string;
      createdBy: string;
      requestId: string;
      status: 'completed' | 'failed' | 'cancelled';
      progress: ReplayProgress;
      error?: { code: string; detail: string };
    }): Promise<{ ended: boolean }> {
      const { replayId, status, progress } = args;
      const replay = await db.replays.findById(replayId);
      if (!replay) return { ended: false };
      const summary = await collectReplaySummary(db.replays, replayId, replay.arms);
      const ended = await db.transaction(async (tx) => {
        if (status === 'cancelled') await tx.replays.cancelUnfinished(replayId);
        const done = await tx.replays.finish(replayId, {
          status,
          progress,
          summary,
          ...(args.error ? { error: args.error } : {}),
        });
        if (done) {
          await deps.audit.record(
            {
              actorId: args.createdBy,
              action: `replay.${status}`,
              targetType: 'replay',
              targetId: replayId,
              requestId: args.requestId,
              metadata: { conversations: progress.conversations, turns: progress.turns, tokens: progress.tokens },
            },
            tx,
          );
        }
        return done;
      });
      replayLogger(deps.logger, replayId, undefined, 'summarizeReplay').info(
        { status, ended, conversations: progress.conversations.total },
        'replay ended',
      );
      return { ended };
    },
  };
}
