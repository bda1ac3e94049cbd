import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { ChatActivities } from '#activities/chat.activities';
import type { ReplayActivities } from '#activities/replay.activities';
import type { ContextSource } from '#libs/contracts/chat-turn.contract';
import { REPLAY_FAILURE_TYPES, REPLAY_PAUSE_SIGNAL, REPLAY_PROGRESS_QUERY } from '#libs/contracts/replay.contract';
import type {
  ReplayAnswer,
  ReplayArm,
  ReplayConversationInput,
  ReplayConversationOutcome,
  ReplaySourcesRequest,
  ReplayStepRef,
  ReplayTurnRef,
} from '#libs/contracts/replay.contract';
import { DATABASE_STEP_OPTIONS, GENERATE_RETRY, SOURCES_STEP_OPTIONS } from '#libs/contracts/step-policies';
import { typedFailureOf } from '#libs/contracts/temporal-failure';

/** The parent tells its running children to stop at the next turn (`true`) or to go on (`false`). */
export const replayPauseSignal = defineSignal<[boolean]>(REPLAY_PAUSE_SIGNAL);

export interface ReplayConversationProgress {
  turns: number;
  turnsDone: number;
  answers: number;
  paused: boolean;
}
export const replayConversationProgressQuery = defineQuery<ReplayConversationProgress>(REPLAY_PROGRESS_QUERY);

/*
 * Every step of a replayed turn runs as a local activity: in the worker, recorded as a marker in this run's history,
 * with no activity task round trips through the server, so a conversation of five turns costs the server a few
 * workflow tasks. A worker killed mid-step loses only steps whose markers were not recorded; they run again on another
 * worker, and storing a result is idempotent (one row per turn and arm), so nothing is answered twice.
 */

/** The same steps and policies as a live turn (context, sources, generation), under the same activity names. */
const { loadContext } = proxyLocalActivities<ChatActivities>(DATABASE_STEP_OPTIONS);
const { retrieveFromFiles, searchWeb } = proxyLocalActivities<ChatActivities>(SOURCES_STEP_OPTIONS);
const { generate } = proxyLocalActivities<ChatActivities>({
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '10 minutes',
  localRetryThreshold: '10 seconds',
  retry: GENERATE_RETRY,
});

const { loadReplayTurns, storeReplayResult, finishReplayConversation } =
  proxyLocalActivities<ReplayActivities>(DATABASE_STEP_OPTIONS);
/** The judge is a model call too: retried like one. */
const { judgeReplayAnswer } = proxyLocalActivities<ReplayActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '10 minutes',
  localRetryThreshold: '10 seconds',
  retry: GENERATE_RETRY,
});

/**
 * One conversation of a replay: its current branch's user turns in order, each answered by every arm in turn through
 * the live turn's context → sources → generate steps (the original history before it in `pinned` mode, the arm's own
 * earlier answers in `trajectory` mode), stored, then judged when the replay has a judge. Never writes into the
 * conversation. A generation that fails after the live turn's retries is stored as failed and ends the conversation
 * (failed, with its reason); the batch goes on.
 */
export async function replayConversation(input: ReplayConversationInput): Promise<ReplayConversationOutcome> {
  const { replayId, conversationId } = input;
  let paused = false;
  const outcome: ReplayConversationOutcome = {
    status: 'completed',
    turns: 0,
    answers: 0,
    failedAnswers: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
  let turnCount = 0;
  setHandler(replayPauseSignal, (value) => {
    paused = value;
  });
  setHandler(replayConversationProgressQuery, () => ({
    turns: turnCount,
    turnsDone: outcome.turns,
    answers: outcome.answers,
    paused,
  }));

  // The child's share of each provider's requests per second: the next call to a provider waits until its slot.
  const nextCallAt: Record<string, number> = {};
  const pace = async (provider: string): Promise<void> => {
    const gap = input.pacingMs[provider];
    if (!gap) return;
    const now = Date.now();
    const at = Math.max(nextCallAt[provider] ?? 0, now);
    nextCallAt[provider] = at + gap;
    if (at > now) await sleep(at - now);
  };

  try {
    const turns = await loadReplayTurns({
      replayId,
      conversationId,
      ...(input.maxTurns !== undefined ? { maxTurns: input.maxTurns } : {}),
    });
    turnCount = turns.length;
    for (const turn of turns) {
      let failure: { code: string; detail: string } | undefined;
      for (const arm of input.arms) {
        await condition(() => !paused);
        const ref: ReplayStepRef = { replayId, conversationId, turnIndex: turn.index, armIndex: arm.index };
        await pace(arm.provider);
        const answer = await answerTurn(input, ref, turn, arm);
        const stored = await storeReplayResult({
          ref,
          turn,
          answer,
          ...(input.judge ? { against: input.judge.against } : {}),
        });
        outcome.answers += 1;
        outcome.promptTokens += stored.promptTokens;
        outcome.completionTokens += stored.completionTokens;
        if (stored.status === 'failed') {
          outcome.failedAnswers += 1;
          failure ??= answer.status === 'failed' ? { code: answer.code, detail: answer.detail } : generationFailed();
          continue;
        }
        const judge = input.judge;
        if (judge && (judge.against === 'original' ? turn.originalMessageId !== null : arm.index > 0)) {
          await pace(judge.provider);
          await judgeReplayAnswer({ ref, judge, seed: input.seed });
        }
      }
      outcome.turns += 1;
      if (failure) {
        // The next turns would build on an answer that does not exist (trajectory) or on a broken setup: stop here.
        outcome.status = 'failed';
        outcome.error = failure;
        break;
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      outcome.status = 'cancelled';
      await CancellationScope.nonCancellable(() =>
        finishReplayConversation({ replayId, conversationId, outcome: finished(outcome) }),
      );
      throw error;
    }
    const cause = typedFailureOf(error);
    outcome.status = 'failed';
    outcome.error = {
      code: cause?.type ?? 'replay_failed',
      detail: cause?.message ?? (error instanceof Error ? error.message : String(error)),
    };
    log.warn('conversation replay failed', { replayId, conversationId, code: outcome.error.code });
  }
  await finishReplayConversation({ replayId, conversationId, outcome: finished(outcome) });
  return outcome;
}

/** One arm's answer to one user turn: the live turn's steps with the arm's history, model, prompt and sources. */
async function answerTurn(
  input: ReplayConversationInput,
  ref: ReplayStepRef,
  turn: ReplayTurnRef,
  arm: ReplayArm,
): Promise<ReplayAnswer> {
  const sources: ReplaySourcesRequest = {
    replay: ref,
    userId: turn.senderId,
    conversationId: input.conversationId,
    userMessageId: turn.userMessageId,
    ...(turn.fileIds ? { fileIds: turn.fileIds } : {}),
  };
  const [context, files, web] = await Promise.all([
    loadContext({
      replay: ref,
      userMessageId: turn.userMessageId,
      history: input.mode,
      model: arm.model,
      ...(arm.systemPrompt !== undefined ? { systemPrompt: arm.systemPrompt } : {}),
    }),
    arm.retrieval ? retrieveFromFiles(sources) : Promise.resolve(undefined),
    arm.webSearch ? searchWeb(sources) : Promise.resolve(undefined),
  ]);
  const found: ContextSource[] = [...(files?.sources ?? []), ...(web?.sources ?? [])];
  try {
    const generation = await generate({ replay: ref, context, sources: found });
    return {
      status: 'complete',
      content: generation.content,
      model: generation.model,
      provider: generation.provider,
      citations: generation.citations ?? [],
      ...(generation.usage ? { usage: generation.usage } : {}),
      ...(generation.latencyMs !== undefined ? { latencyMs: generation.latencyMs } : {}),
      ...(generation.firstTokenMs !== undefined ? { firstTokenMs: generation.firstTokenMs } : {}),
    };
  } catch (error) {
    if (isCancellation(error)) throw error;
    // Past the live turn's retries (or refused at once): the answer is a failure, kept with its reason.
    const cause = typedFailureOf(error);
    return {
      status: 'failed',
      code: cause?.type ?? REPLAY_FAILURE_TYPES.generationFailed,
      detail: cause?.message ?? (error instanceof Error ? error.message : String(error)),
    };
  }
}

function generationFailed(): { code: string; detail: string } {
  return { code: REPLAY_FAILURE_TYPES.generationFailed, detail: 'The model gave no answer' };
}

function finished(outcome: ReplayConversationOutcome): Pick<ReplayConversationOutcome, 'status' | 'turns' | 'error'> {
  return { status: outcome.status, turns: outcome.turns, ...(outcome.error ? { error: outcome.error } : {}) };
}
