import { TURN_CANCELLED, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { type AppError, NotFoundError, TurnError } from '#libs/errors/app-error';

/**
 * The error a request waiting for a turn's answer gets when the turn ended without one, from the failure type the
 * workflow reported (or stored on the turn): a model that could not answer, a conversation deleted meanwhile, a cancel
 * before any text, anything else.
 */
export function turnFailureError(turnId: string, type: string, detail: string): AppError {
  if (type.startsWith('llm_')) {
    return new TurnError('upstream_unavailable', `The language model could not answer: ${detail}`, {
      turnId,
      reason: type,
    });
  }
  if (type === TURN_FAILURE_TYPES.contextNotFound) return new NotFoundError('The conversation');
  if (type === TURN_CANCELLED) {
    return new TurnError('turn_cancelled', 'The turn was cancelled before any of the answer was generated', { turnId });
  }
  return new TurnError('turn_failed', detail, { turnId, reason: type });
}
