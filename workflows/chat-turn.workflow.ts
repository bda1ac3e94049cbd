import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { ChatActivities } from '../activities/chat.activities';
import { TURN_PROGRESS_QUERY, TURN_RESULT_UPDATE } from '../libs/contracts/chat-turn.contract';
import type {
  ChatTurnInput,
  PersistedAssistantMessage,
  StepName,
  StepStatus,
  TurnProgress,
} from '../libs/contracts/chat-turn.contract';

/** The API waits on this update (update-with-start): it answers with the persisted assistant message. */
export const turnResultUpdate = defineUpdate<PersistedAssistantMessage>(TURN_RESULT_UPDATE);
export const progressQuery = defineQuery<TurnProgress>(TURN_PROGRESS_QUERY);

/**
 * The short database steps run as local activities: in the worker, recorded in the workflow's own history,
 * with no activity task round trips through the server. That halves the server's work per turn. They are
 * idempotent, so a retry or a replay after a worker crash writes nothing twice.
 */
const { loadContext, persistAssistantMessage, markTurnFailed, recordAudit } = proxyLocalActivities<ChatActivities>({
  startToCloseTimeout: '15 seconds',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 20,
  },
});

const { generate } = proxyActivities<ChatActivities>({
  startToCloseTimeout: '5 minutes',
  // A dead worker is noticed within the heartbeat timeout and the generation is retried on another one.
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['llm_bad_request', 'llm_auth', 'ContextNotFound'],
  },
});

/**
 * One chat turn: load the branch's history within the token budget → generate (a regular activity: long,
 * streaming, heartbeating, retried on another worker if this one dies) → persist the answer (idempotent by
 * turn id, audited in the same transaction). Retrieval and web search join in their own issues.
 */
export async function chatTurn(input: ChatTurnInput): Promise<PersistedAssistantMessage> {
  const progress: TurnProgress = {
    status: 'running',
    steps: [
      { name: 'context', status: 'pending' },
      { name: 'generation', status: 'pending' },
      { name: 'persistence', status: 'pending' },
    ],
  };
  const mark = (name: StepName, status: StepStatus, detail?: string): void => {
    const step = progress.steps.find((candidate) => candidate.name === name);
    if (step) {
      step.status = status;
      if (detail !== undefined) step.detail = detail;
    }
  };

  let answer: PersistedAssistantMessage | undefined;
  let failure: ApplicationFailure | undefined;
  setHandler(progressQuery, () => progress);
  setHandler(turnResultUpdate, async () => {
    await condition(() => answer !== undefined || failure !== undefined);
    if (answer) return answer;
    throw failure ?? ApplicationFailure.create({ message: 'The turn ended without an answer', type: 'turn_failed' });
  });

  let current: StepName = 'context';
  try {
    mark('context', 'running');
    const context = await loadContext(input);
    mark('context', 'completed', `${context.messages.length} messages, ${context.promptTokens} tokens`);

    current = 'generation';
    mark('generation', 'running');
    const generation = await generate({ turn: input, context });
    mark('generation', 'completed', `${generation.provider}/${generation.model}`);

    current = 'persistence';
    mark('persistence', 'running');
    answer = await persistAssistantMessage({ turn: input, generation, steps: progress.steps });
    mark('persistence', 'completed');
  } catch (error) {
    const reason = toFailure(error);
    mark(current, 'failed', reason.message);
    log.warn('chat turn failed', { turnId: input.turnId, step: current, type: reason.type });
    await markTurnFailed({
      turn: input,
      code: reason.type ?? 'turn_failed',
      detail: reason.message,
      steps: progress.steps,
    });
    // Only now, with the failure recorded: a client that reads the turn next sees it failed, with its reason.
    progress.status = 'failed';
    failure = reason;
    await recordAudit({ turn: input, action: 'turn.failed', metadata: { step: current, type: reason.type } });
    await condition(allHandlersFinished);
    throw reason;
  }

  progress.status = 'completed';
  await condition(allHandlersFinished);
  return answer;
}

/** Activity failures arrive wrapped; keep the innermost typed cause so the API can map it to an error code. */
function toFailure(error: unknown): ApplicationFailure {
  let cause: unknown = error;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ message: cause.message, type: cause.type ?? 'turn_failed', nonRetryable: true });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ message, type: 'turn_failed', nonRetryable: true });
}
