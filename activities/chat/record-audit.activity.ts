import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import type { AuditDeps } from './chat-activity-deps';

export function createRecordAudit(deps: AuditDeps) {
  return {
    /** One audit row of a turn's outcome (a failure); keyed by turn and action, so a retry does not add a second. */
    async recordAudit(args: {
      turn: ChatTurnInput;
      action: string;
      metadata?: Record<string, unknown>;
    }): Promise<void> {
      const { turn } = args;
      await deps.audit.recordOnce({
        actorId: turn.userId,
        action: args.action,
        targetType: 'turn',
        targetId: turn.turnId,
        requestId: turn.requestId,
        metadata: { conversationId: turn.conversationId, ...args.metadata },
      });
    },
  };
}
