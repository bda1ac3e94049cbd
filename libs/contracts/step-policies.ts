/**
 * Timeouts and retry policies of a turn's steps, shared by the live `chatTurn` and the replayed turns of
 * `replayConversation`: a replayed answer is retried exactly as a live one would be. Pure: the workflow bundle imports
 * this file.
 */
import { ActivityCancellationType, type LocalActivityOptions, type RetryPolicy } from '@temporalio/common';
import { SOURCES_STEP_ATTEMPTS, TURN_FAILURE_TYPES } from './chat-turn.contract';

/** Short, idempotent database steps (load the history, persist or store an answer). */
export const DATABASE_STEP_OPTIONS = {
  startToCloseTimeout: '15 seconds',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 20,
  },
} satisfies LocalActivityOptions;

/** Retrieval and web search: short, and they degrade rather than fail on their last attempt. */
export const SOURCES_STEP_OPTIONS = {
  startToCloseTimeout: '20 seconds',
  localRetryThreshold: '5 seconds',
  // The activity answers without its sources on the last attempt (it reads the attempt number against the same constant).
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: SOURCES_STEP_ATTEMPTS },
} satisfies LocalActivityOptions;

/**
 * The steps before the model call as one local activity (`prepareTurn`): retried like the database steps, with room
 * for a slow source; its sources still answer without results on their last attempt (`SOURCES_STEP_ATTEMPTS`).
 */
export const PREPARE_TURN_OPTIONS = {
  ...DATABASE_STEP_OPTIONS,
  startToCloseTimeout: SOURCES_STEP_OPTIONS.startToCloseTimeout,
} satisfies LocalActivityOptions;

/** The model call: provider 429/5xx/timeouts are retried with backoff; a refused request or key fails at once. */
export const GENERATE_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [
    TURN_FAILURE_TYPES.llmBadRequest,
    TURN_FAILURE_TYPES.llmAuth,
    TURN_FAILURE_TYPES.contextNotFound,
  ],
} satisfies RetryPolicy;

/**
 * The live model call as a local activity in the turn's workflow task: the same timeouts and retries as the activity
 * it replaced; a retry waiting longer than the threshold becomes a timer in the history.
 */
export const LOCAL_GENERATE_OPTIONS = {
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '10 minutes',
  localRetryThreshold: '10 seconds',
  // On cancel, wait for the call to keep the partial answer before the workflow moves on.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: GENERATE_RETRY,
} satisfies LocalActivityOptions;

/**
 * A turn without tools as one local activity (`answerTurn`: prepare, the model call, persist): the model call's
 * timeouts and the refusals it does not retry, and the database steps' patience (an outage of MySQL or Redis is waited
 * out for minutes; the providers' breakers keep the retries from reaching a model that is down).
 */
export const ANSWER_TURN_OPTIONS = {
  ...LOCAL_GENERATE_OPTIONS,
  retry: {
    ...DATABASE_STEP_OPTIONS.retry,
    initialInterval: '500 milliseconds',
    nonRetryableErrorTypes: GENERATE_RETRY.nonRetryableErrorTypes,
  },
} satisfies LocalActivityOptions;
