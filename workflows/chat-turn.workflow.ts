import {
  ActivityCancellationType,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { ChatActivities } from '#activities/chat.activities';
import {
  TURN_CANCEL_HINTED,
  TURN_CANCELLED,
  TURN_PROGRESS_QUERY,
  TURN_RESULT_UPDATE,
} from '#libs/contracts/chat-turn.contract';
import type {
  ChatTurnInput,
  ContextSource,
  LoadedContext,
  PartialAnswer,
  PersistedAssistantMessage,
  SourcesOutcome,
  StepName,
  TurnProgress,
  TurnStep,
} from '#libs/contracts/chat-turn.contract';
import {
  ANSWER_TURN_OPTIONS,
  DATABASE_STEP_OPTIONS,
  GENERATE_RETRY,
  LOCAL_GENERATE_OPTIONS,
  PREPARE_TURN_OPTIONS,
  SOURCES_STEP_OPTIONS,
} from '#libs/contracts/step-policies';
import { stoppedAtStepOf, typedFailureOf } from '#libs/contracts/temporal-failure';
import {
  contextLoaded,
  generated,
  initialSteps,
  persisted,
  preparedSteps,
  preparingSteps,
  sourcesFound,
  stepFailed,
  stepRunning,
  webSearchNotRequested,
  withStep,
} from '#libs/contracts/turn-steps';
import { ToolLoop } from './tool-loop';
import { runsChange, startedAtVersion } from './turn-version';

/** The API waits on this update (update-with-start): it answers with the persisted assistant message. */
export const turnResultUpdate = defineUpdate<PersistedAssistantMessage>(TURN_RESULT_UPDATE);
export const progressQuery = defineQuery<TurnProgress>(TURN_PROGRESS_QUERY);

/**
 * The short database steps run as local activities: in the worker, recorded in the workflow's own history,
 * with no activity task round trips through the server. That halves the server's work per turn. They are
 * idempotent, so a retry or a replay after a worker crash writes nothing twice.
 */
const { loadContext, persistAssistantMessage, markTurnFailed, recordAudit, finishCancelledTurn } =
  proxyLocalActivities<ChatActivities>(DATABASE_STEP_OPTIONS);

/**
 * Retrieval (MySQL + an embedding call) and web search (SearxNG behind a cache and a shared breaker) are short,
 * degrade instead of failing, and run side by side with loading the history.
 */
const { retrieveFromFiles, searchWeb } = proxyLocalActivities<ChatActivities>(SOURCES_STEP_OPTIONS);

/** The same three steps as one local activity, in turns started at version 2 or later (`CHAT_TURN_VERSION`). */
const { prepareTurn } = proxyLocalActivities<ChatActivities>(PREPARE_TURN_OPTIONS);

/**
 * A turn without tools, whole, as one local activity (turns started at version 3 or later): the steps above, the model
 * call and persisting the answer. One activation of the workflow and one marker in its history instead of three.
 */
const { answerTurn } = proxyLocalActivities<ChatActivities>(ANSWER_TURN_OPTIONS);

/**
 * The model call, in the turn's first workflow task with the steps before and after it: one workflow task and no
 * activity task per turn, which halves what Temporal and the worker spend on a turn and lets the model be called as
 * soon as the history is loaded. Still durable: a worker that dies mid-call loses its workflow task, which times out
 * and runs again elsewhere from the last recorded step (a long call records the steps before it while it runs).
 * A cancel request reaches the workflow only when the task ends, so the API also sends it ahead through Redis
 * (`TURN_CANCEL_HINTED`).
 */
const { generate: generateInTask } = proxyLocalActivities<ChatActivities>(LOCAL_GENERATE_OPTIONS);

/** The model call of turns started before it moved into the workflow task (they replay as they ran). */
const { generate: generateAsActivity } = proxyActivities<ChatActivities>({
  startToCloseTimeout: '5 minutes',
  // Every attempt and backoff together stay inside the run's 15 minutes, so a turn that runs out of attempts still
  // ends as failed (with its event and audit row) rather than being cut off by the workflow timeout.
  scheduleToCloseTimeout: '10 minutes',
  // On cancel, wait for the activity to keep the partial answer before the workflow moves on.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  // A dead worker is noticed within the heartbeat timeout and the generation is retried on another one.
  heartbeatTimeout: '10 seconds',
  retry: GENERATE_RETRY,
});

/**
 * One chat turn: load the branch's history ∥ retrieve passages from the user's files ∥ search the web (when asked;
 * one local activity, `prepareTurn`, since version 2) → generate with the sources numbered in the prompt (a local
 * activity in the turn's workflow task since `local-generation`; retried from the last recorded step if its worker
 * dies) → persist the answer with its citations (idempotent by turn id, audited in the same transaction). Since
 * version 3 a turn without tools runs all three as one local activity, `answerTurn`; a turn with tools runs the agent
 * loop between them. A cancel stops the generation, keeps the partial answer marked cancelled and ends the run as
 * cancelled.
 */
export async function chatTurn(input: ChatTurnInput): Promise<PersistedAssistantMessage> {
  // Turns started before retrieval and web search joined replay the old command sequence (see the replay test).
  const withSources = runsChange(input, 'retrieval-and-web-search');
  const stepsInTask = runsChange(input, 'local-generation');
  const generate = stepsInTask ? generateInTask : generateAsActivity;
  // The workflow owns the turn's steps: the `progress` query answers with them, and they are stored with the outcome.
  const progress: TurnProgress = { status: 'running', steps: initialSteps(withSources) };
  const mark = (step: TurnStep): void => {
    progress.steps = withStep(progress.steps, step);
  };

  let answer: PersistedAssistantMessage | undefined;
  let failure: ApplicationFailure | undefined;
  setHandler(progressQuery, () => progress);
  setHandler(turnResultUpdate, async () => {
    // Not cancelled with the run: a client waiting on a cancelled turn still gets the partial answer.
    await CancellationScope.nonCancellable(() => condition(() => answer !== undefined || failure !== undefined));
    if (answer) return answer;
    throw failure ?? ApplicationFailure.create({ message: 'The turn ended without an answer', type: 'turn_failed' });
  });

  // A turn that may call tools runs the agent loop (turns recorded before tools never asked for any).
  const toolLoop =
    input.tools && input.tools.length > 0 && runsChange(input, 'tool-loop')
      ? new ToolLoop(input, stepsInTask)
      : undefined;

  let current: StepName = 'context';
  try {
    if (!toolLoop && startedAtVersion(input, 3)) {
      progress.steps = preparingSteps(progress.steps, input.webSearch);
      const answered = await answerTurn(input);
      progress.steps = answered.steps;
      answer = answered.message;
    } else {
      mark(stepRunning('context'));
      let context: LoadedContext;
      let sources: ContextSource[] = [];
      if (withSources && startedAtVersion(input, 2)) {
        progress.steps = preparingSteps(progress.steps, input.webSearch);
        const ready = await prepareTurn(input);
        progress.steps = preparedSteps(progress.steps, ready);
        context = ready.context;
        sources = [...ready.retrieval.sources, ...(ready.webSearch?.sources ?? [])];
      } else if (withSources) {
        const sourceStep = async (
          name: 'retrieval' | 'web_search',
          run: () => Promise<SourcesOutcome>,
        ): Promise<ContextSource[]> => {
          mark(stepRunning(name));
          const outcome = await run();
          mark(sourcesFound(name, outcome));
          return outcome.sources;
        };
        if (!input.webSearch) mark(webSearchNotRequested());
        const [loaded, files, web] = await Promise.all([
          loadContext(input),
          sourceStep('retrieval', () => retrieveFromFiles(input)),
          input.webSearch ? sourceStep('web_search', () => searchWeb(input)) : Promise.resolve([]),
        ]);
        context = loaded;
        sources = [...files, ...web];
      } else {
        context = await loadContext(input);
      }
      mark(contextLoaded(context));

      current = 'generation';
      mark(stepRunning('generation'));
      const prompt = withSources ? { turn: input, context, sources } : { turn: input, context };
      const generation = toolLoop
        ? await toolLoop.run((tools) => generate({ ...prompt, tools }))
        : await generate(prompt);
      mark(generated(generation));

      current = 'persistence';
      mark(stepRunning('persistence'));
      // Once the answer is generated, a late cancel no longer stops the turn: the answer is kept.
      answer = await CancellationScope.nonCancellable(() =>
        persistAssistantMessage({
          turn: input,
          generation,
          steps: progress.steps,
          ...(toolLoop ? { toolCalls: toolLoop.records } : {}),
        }),
      );
      mark(persisted());
    }
  } catch (error) {
    // `answerTurn` says where it stopped, with the steps it had run.
    const stopped = stoppedAtStepOf(error);
    if (stopped) {
      current = stopped.stoppedAt;
      progress.steps = stopped.steps;
    }
    const hinted = hintedCancelOf(error);
    if (isCancellation(error) || hinted) {
      mark(stepFailed(current, 'cancelled'));
      const fromGeneration = hinted ? hinted.partial : partialAnswerOf(error);
      const kept = toolLoop ? toolLoop.partial(fromGeneration, input.model ?? '') : fromGeneration;
      // No partial from the model call (cancelled before it ran again, its earlier run's result lost with a workflow
      // task): the activity looks for what that run kept. Only the activity's input changes: replays are unaffected.
      const lost = fromGeneration === undefined ? { generationLost: true } : {};
      const partial = await CancellationScope.nonCancellable(() =>
        finishCancelledTurn({ turn: input, steps: progress.steps, partial: kept, ...lost }),
      );
      progress.status = 'cancelled';
      if (partial) answer = partial;
      else
        failure = ApplicationFailure.create({
          message: 'The turn was cancelled',
          type: TURN_CANCELLED,
          nonRetryable: true,
        });
      await waitForHandlers();
      // Stopped by the API's hint: the cancel request is recorded (the API sends the hint after it), and the next
      // workflow task brings it; the run then ends cancelled like any other.
      if (hinted) await condition(() => false);
      throw error;
    }
    const reason = toFailure(error);
    mark(stepFailed(current, reason.message));
    log.warn('chat turn failed', { turnId: input.turnId, step: current, type: reason.type });
    // Not cancellable: a cancel arriving now must not leave the turn `running` without its failure recorded.
    await CancellationScope.nonCancellable(async () => {
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
    });
    await waitForHandlers();
    throw reason;
  }

  progress.status = 'completed';
  await waitForHandlers();
  return answer;
}

/**
 * Lets the `turnResult` update answer before the run ends. Not cancellable: after a cancel `condition` would reject at
 * once, and a turn whose answer is already persisted would end as cancelled.
 */
function waitForHandlers(): Promise<void> {
  return CancellationScope.nonCancellable(() => condition(allHandlersFinished));
}

/** The text the generate activity kept when its user cancelled (the details of its `CancelledFailure`), if any. */
function partialAnswerOf(error: unknown): PartialAnswer | undefined {
  let cause: unknown = error;
  while (cause instanceof Error) {
    const partial = cause instanceof CancelledFailure ? keptPartial(cause.details) : undefined;
    if (partial) return partial;
    cause = cause.cause;
  }
  return undefined;
}

/** The generation stopped by a cancel hint, with the partial answer it kept (if any). */
function hintedCancelOf(error: unknown): { partial: PartialAnswer | undefined } | undefined {
  const failure = typedFailureOf(error);
  return failure?.type === TURN_CANCEL_HINTED ? { partial: keptPartial(failure.details) } : undefined;
}

/** A failure's partial answer, when it kept any text. */
function keptPartial(details: unknown[] | null | undefined): PartialAnswer | undefined {
  const [partial] = (details ?? []) as [PartialAnswer?];
  return partial && typeof partial.content === 'string' && partial.content.length > 0 ? partial : undefined;
}

/** The turn's failure, with the typed cause of `error` (when it has one) so the API can map it to an error code. */
function toFailure(error: unknown): ApplicationFailure {
  const cause = typedFailureOf(error);
  if (cause) {
    return ApplicationFailure.create({ message: cause.message, type: cause.type ?? 'turn_failed', nonRetryable: true });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ message, type: 'turn_failed', nonRetryable: true });
}
