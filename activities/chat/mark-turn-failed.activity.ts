import type { ChatTurnInput, TurnStep } from '#libs/contracts/chat-turn.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { type ChatActivityContext, turnLogger } from './chat-activity-deps';

export function createMarkTurnFailed(deps: ChatActivityContext) {
  const { db, events } = deps;
  return {
    /** Records the turn's failure with its reason and ends its stream with `turn.failed`. */
    async markTurnFailed(args: {
      turn: ChatTurnInput;
      code: string;
      detail: string;
      steps: TurnStep[];
    }): Promise<void> {
      const { turn, code, detail, steps } = args;
      await db.turns.markFailed(turn.turnId, { code, detail, steps });
      turnLogger(deps.logger, turn, 'markTurnFailed').warn({ code }, 'turn marked failed');
      const failedStep = steps.find((step) => step.status === 'failed');
      await events?.finish(turn.turnId, [
        ...(failedStep ? [turnEvents.step({ name: failedStep.name, status: 'failed' })] : []),
        turnEvents.failed(code, detail),
      ]);
    },
  };
}
