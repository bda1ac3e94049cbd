import type { ReplayConversationOutcome } from '#libs/contracts/replay.contract';
import { type ReplayActivityContext, replayLogger } from './replay-activity-deps';

export function createFinishReplayConversation(deps: ReplayActivityContext) {
  return {
    /** Records how a conversation's replay ended: completed, failed with its reason, or cancelled. Idempotent. */
    async finishReplayConversation(args: {
      replayId: string;
      conversationId: string;
      outcome: Pick<ReplayConversationOutcome, 'status' | 'turns' | 'error'>;
    }): Promise<void> {
      const { replayId, conversationId, outcome } = args;
      await deps.db.replays.finishConversation(replayId, conversationId, {
        status: outcome.status,
        turns: outcome.turns,
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      const log = replayLogger(deps.logger, replayId, conversationId, 'finishReplayConversation');
      if (outcome.status === 'failed') log.warn({ code: outcome.error?.code }, 'conversation replay failed');
      else log.debug({ status: outcome.status, turns: outcome.turns }, 'conversation replay ended');
    },
  };
}
