import { ApplicationFailure } from '@temporalio/common';
import type { StoppedAtStep } from './chat-turn.contract';

/**
 * The typed cause of a Temporal failure: activity failures, child-workflow failures and failed updates arrive
 * wrapped (`ActivityFailure` → `ApplicationFailure`, `WorkflowUpdateFailedError` → `ApplicationFailure` …); the
 * first `ApplicationFailure` on the cause chain carries the stable `type` that says why. Workflows import this too:
 * it is pure.
 */
export function typedFailureOf(error: unknown): ApplicationFailure | undefined {
  let cause: unknown = error;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure) return cause;
    cause = cause.cause;
  }
  return undefined;
}

/**
 * Where `answerTurn` stopped (`StoppedAtStep`), read from the last detail of a failure on `error`'s cause chain: the
 * activity appends it to whatever failure it throws.
 */
export function stoppedAtStepOf(error: unknown): StoppedAtStep | undefined {
  let cause: unknown = error;
  while (cause instanceof Error) {
    const details = (cause as { details?: unknown }).details;
    const last: unknown = Array.isArray(details) ? details.at(-1) : undefined;
    if (isStoppedAtStep(last)) return last;
    cause = cause.cause;
  }
  return undefined;
}

function isStoppedAtStep(value: unknown): value is StoppedAtStep {
  if (typeof value !== 'object' || value === null) return false;
  const { stoppedAt, steps } = value as Partial<StoppedAtStep>;
  return typeof stoppedAt === 'string' && Array.isArray(steps);
}
