import { ApplicationFailure } from '@temporalio/common';

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
