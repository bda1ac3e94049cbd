import type { ReplayActivityContext } from './replay-activity-deps';

export function createListReplayConversations(deps: Pick<ReplayActivityContext, 'db'>) {
  return {
    /** The replay's next conversations after `afterSeq`, in order: the parent pages through its selection. */
    async listReplayConversations(args: {
      replayId: string;
      afterSeq: number;
      limit: number;
    }): Promise<{ seq: number; conversationId: string }[]> {
      const rows = await deps.db.replays.listConversations(args.replayId, args.afterSeq, args.limit);
      return rows.map((row) => ({ seq: row.seq, conversationId: row.conversationId }));
    },
  };
}
