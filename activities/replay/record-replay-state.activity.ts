import type { ReplayProgress } from '#libs/contracts/replay.contract';
import { type ReplayActivityContext, replayLogger } from './replay-activity-deps';

export function createRecordReplayState(deps: ReplayActivityContext) {
  return {
    /**
     * Writes where a running replay stands, so lists and a worker-less API show it: `started` (its workflow picked it
     * up), `running` or `paused`, with the progress at that moment. Idempotent; never touches a replay that ended.
     */
    async recordReplayState(args: {
      replayId: string;
      state: 'started' | 'running' | 'paused';
      progress: ReplayProgress;
    }): Promise<void> {
      if (args.state === 'started') await deps.db.replays.markStarted(args.replayId);
      await deps.db.replays.setRunningState(
        args.replayId,
        args.state === 'paused' ? 'paused' : 'running',
        args.progress,
      );
      replayLogger(deps.logger, args.replayId, undefined, 'recordReplayState').info(
        { state: args.state },
        'replay state',
      );
    },
  };
}
