import {
  allHandlersFinished,
  CancellationScope,
  type ChildWorkflowHandle,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  isCancellation,
  log,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReplayActivities } from '#activities/replay.activities';
import {
  REPLAY_CONTROL_UPDATE,
  REPLAY_PROGRESS_QUERY,
  replayConversationWorkflowId,
} from '#libs/contracts/replay.contract';
import type {
  ReplayBatchInput,
  ReplayCarried,
  ReplayControlAction,
  ReplayConversationInput,
  ReplayConversationOutcome,
  ReplayProgress,
  ReplayStatus,
} from '#libs/contracts/replay.contract';
import { SEARCH_ATTRIBUTE_KEYS } from '#libs/contracts/search-attributes';
import { DATABASE_STEP_OPTIONS } from '#libs/contracts/step-policies';
import { typedFailureOf } from '#libs/contracts/temporal-failure';
import { replayConversation, replayPauseSignal } from './replay-conversation.workflow';

export const replayProgressQuery = defineQuery<ReplayProgress>(REPLAY_PROGRESS_QUERY);
/** Pause, resume or cancel; answers with the progress after the change (the API waits on it). */
export const replayControlUpdate = defineUpdate<ReplayProgress, [ReplayControlAction]>(REPLAY_CONTROL_UPDATE);

const { listReplayConversations, recordReplayState, finishReplayConversation } =
  proxyLocalActivities<ReplayActivities>(DATABASE_STEP_OPTIONS);
/** Reads every result of the replay (paged): given longer than a plain database step. */
const { summarizeReplay } = proxyLocalActivities<ReplayActivities>({
  ...DATABASE_STEP_OPTIONS,
  startToCloseTimeout: '5 minutes',
  localRetryThreshold: '30 seconds',
});

/** Conversation ids read per page of the selection. */
const PAGE_SIZE = 200;
const ACTIONS: readonly ReplayControlAction[] = ['pause', 'resume', 'cancel'];

/**
 * A batch replay: pages through the replay's conversations (written when it was created) and runs one child
 * `replayConversation` per conversation, at most `limits.concurrency` at once, each on its own id
 * (`replay:<replayId>:<conversationId>`). After `limits.conversationsPerRun` conversations (or when the server
 * suggests it) the run waits for its children and continues as new with the cursor and the counts, so a replay of any
 * size keeps a small history. Pause stops starting conversations and asks running ones to stop at their next turn;
 * resume lets them go on; cancel (the update, or cancelling the run) cancels the running ones and ends the replay
 * `cancelled`. A conversation that fails is counted with its reason and the batch goes on. At the end the results are
 * summed up per arm and the replay is marked ended.
 */
export async function replayConversations(input: ReplayBatchInput): Promise<ReplayProgress> {
  const { replayId, limits } = input;
  const state: ReplayCarried = input.carried ?? {
    afterSeq: 0,
    counts: {
      conversations: { done: 0, failed: 0, cancelled: 0 },
      turns: { done: 0, failed: 0 },
      tokens: { prompt: 0, completion: 0 },
    },
    startedAtMs: Date.now(),
    pausedMs: 0,
    paused: false,
    runs: 0,
  };
  let pausedSince = state.paused ? Date.now() : undefined;
  let status: ReplayStatus = state.paused ? 'paused' : 'running';
  let cancelRequested = false;
  /** Children by conversation id; the handle is there once the child started. */
  const running = new Map<string, ChildWorkflowHandle<typeof replayConversation> | undefined>();
  const concurrency = effectiveConcurrency(input);
  const pacingMs = pacingFor(input, concurrency);
  /** The children run in this scope: cancelling it cancels every running conversation. */
  const children = new CancellationScope();

  const progress = (): ReplayProgress => {
    const { conversations, turns, tokens } = state.counts;
    const ended = conversations.done + conversations.failed + conversations.cancelled;
    const remaining = Math.max(0, input.totalConversations - ended);
    const now = Date.now();
    const activeMs = now - state.startedAtMs - state.pausedMs - (pausedSince !== undefined ? now - pausedSince : 0);
    return {
      status,
      conversations: {
        total: input.totalConversations,
        ...conversations,
        running: running.size,
        pending: Math.max(0, remaining - running.size),
      },
      turns: { ...turns },
      tokens: { ...tokens },
      startedAt: new Date(state.startedAtMs).toISOString(),
      etaSeconds: remaining === 0 ? 0 : ended > 0 ? Math.round(((activeMs / ended) * remaining) / 1000) : null,
      runs: state.runs + 1,
    };
  };

  const signalChildren = async (pause: boolean): Promise<void> => {
    const started = [...running.values()].filter((handle) => handle !== undefined);
    await Promise.all(started.map((handle) => handle.signal(replayPauseSignal, pause).catch(() => undefined)));
  };

  setHandler(replayProgressQuery, progress);
  setHandler(
    replayControlUpdate,
    async (action) => {
      if (action === 'cancel') {
        if (!cancelRequested) {
          cancelRequested = true;
          children.cancel();
        }
      } else if (!cancelRequested && (action === 'pause') !== state.paused) {
        state.paused = action === 'pause';
        if (state.paused) {
          pausedSince = Date.now();
        } else {
          state.pausedMs += Date.now() - (pausedSince ?? Date.now());
          pausedSince = undefined;
        }
        status = state.paused ? 'paused' : 'running';
        await signalChildren(state.paused);
        await recordReplayState({ replayId, state: status, progress: progress() });
      }
      return progress();
    },
    {
      validator: (action: ReplayControlAction) => {
        if (!ACTIONS.includes(action)) throw new Error(`unknown action ${String(action)}`);
      },
    },
  );

  let more = false;
  try {
    if (!input.carried) await recordReplayState({ replayId, state: 'started', progress: progress() });
    more = await children.run(() => launchChildren());
  } catch (error) {
    if (!isCancellation(error)) {
      await CancellationScope.nonCancellable(() => end('failed', failureOf(error)));
      throw error;
    }
    // Cancelled from the outside (the run itself, e.g. from the Temporal UI): the same as the cancel update.
    cancelRequested = true;
    children.cancel();
  }
  // Every child ends before this run does: a child of a closed run would be terminated, its turn half done.
  await CancellationScope.nonCancellable(() => condition(() => running.size === 0));

  if (more && !cancelRequested) {
    await condition(allHandlersFinished);
    const carried: ReplayCarried = {
      ...state,
      pausedMs: state.pausedMs + (pausedSince !== undefined ? Date.now() - pausedSince : 0),
      runs: state.runs + 1,
    };
    log.info('replay continues as new', { replayId, afterSeq: state.afterSeq, runs: carried.runs });
    return continueAsNew<typeof replayConversations>({ ...input, carried });
  }

  const { conversations } = state.counts;
  const allFailed = input.totalConversations > 0 && conversations.failed === input.totalConversations;
  const final: ReplayStatus = cancelRequested ? 'cancelled' : allFailed ? 'failed' : 'completed';
  const result = await CancellationScope.nonCancellable(() =>
    end(final, allFailed ? { code: 'replay_failed', detail: 'Every conversation failed' } : undefined),
  );
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return result;

  /** Starts children until the selection is exhausted (false) or this run has started its share (true). */
  async function launchChildren(): Promise<boolean> {
    let buffer: { seq: number; conversationId: string }[] = [];
    let fetchedUpTo = state.afterSeq;
    let exhausted = false;
    let launched = 0;
    for (;;) {
      await condition(() => cancelRequested || (!state.paused && running.size < concurrency));
      if (cancelRequested) return false;
      if (buffer.length === 0) {
        if (exhausted) return false;
        buffer = await listReplayConversations({ replayId, afterSeq: fetchedUpTo, limit: PAGE_SIZE });
        exhausted = buffer.length < PAGE_SIZE;
        if (buffer.length === 0) return false;
        fetchedUpTo = buffer.at(-1)!.seq;
      }
      if (launched >= limits.conversationsPerRun || (launched > 0 && workflowInfo().continueAsNewSuggested)) {
        return true;
      }
      const next = buffer.shift()!;
      state.afterSeq = next.seq;
      launched += 1;
      running.set(next.conversationId, undefined);
      void runChild(next.seq, next.conversationId);
    }
  }

  /** One conversation's child, from start to outcome (never throws: a failure is counted with its reason). */
  async function runChild(seq: number, conversationId: string): Promise<void> {
    let outcome: ReplayConversationOutcome;
    try {
      const args: ReplayConversationInput = {
        replayId,
        conversationId,
        seq,
        requestId: input.requestId,
        mode: input.mode,
        arms: input.arms,
        ...(input.judge ? { judge: input.judge } : {}),
        seed: input.seed,
        ...(limits.maxTurnsPerConversation !== undefined ? { maxTurns: limits.maxTurnsPerConversation } : {}),
        pacingMs,
      };
      const handle = await startChild(replayConversation, {
        workflowId: replayConversationWorkflowId(replayId, conversationId),
        args: [args],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTE_KEYS.replayId, value: replayId },
          { key: SEARCH_ATTRIBUTE_KEYS.conversationId, value: conversationId },
          { key: SEARCH_ATTRIBUTE_KEYS.userId, value: input.createdBy },
          { key: SEARCH_ATTRIBUTE_KEYS.turnKind, value: 'replay' },
        ],
        memo: {
          summary: `replay ${replayId}: conversation ${conversationId} (#${seq}), ${input.mode}`,
          arms: input.arms.map((arm) => `${arm.index}: ${arm.label} (${arm.model})`).join('; '),
        },
      });
      running.set(conversationId, handle);
      // Paused while it was starting: it stops before its first turn.
      if (state.paused) await handle.signal(replayPauseSignal, true).catch(() => undefined);
      outcome = await handle.result();
    } catch (error) {
      outcome = isCancellation(error) ? ended('cancelled') : ended('failed', failureOf(error));
      if (outcome.status === 'failed') {
        // The child could not record its own end (it never started, or it was terminated).
        await CancellationScope.nonCancellable(() =>
          finishReplayConversation({
            replayId,
            conversationId,
            outcome: { status: 'failed', turns: 0, ...(outcome.error ? { error: outcome.error } : {}) },
          }),
        );
      }
    } finally {
      running.delete(conversationId);
    }
    const counts = state.counts;
    if (outcome.status === 'completed') counts.conversations.done += 1;
    else if (outcome.status === 'failed') counts.conversations.failed += 1;
    else counts.conversations.cancelled += 1;
    counts.turns.done += outcome.answers - outcome.failedAnswers;
    counts.turns.failed += outcome.failedAnswers;
    counts.tokens.prompt += outcome.promptTokens;
    counts.tokens.completion += outcome.completionTokens;
  }

  /**
   * Sums the results up and marks the replay ended; returns the final progress. The query reports the final status
   * only once the row says so too, so a client that sees `completed` finds the summary stored.
   */
  async function end(
    final: 'completed' | 'failed' | 'cancelled',
    error?: { code: string; detail: string },
  ): Promise<ReplayProgress> {
    const last: ReplayProgress = { ...progress(), status: final };
    await summarizeReplay({
      replayId,
      createdBy: input.createdBy,
      requestId: input.requestId,
      status: final,
      progress: last,
      ...(error ? { error } : {}),
    });
    status = final;
    return last;
  }
}

/** A conversation's outcome when its child did not report one. */
function ended(status: 'failed' | 'cancelled', error?: { code: string; detail: string }): ReplayConversationOutcome {
  return {
    status,
    turns: 0,
    answers: 0,
    failedAnswers: 0,
    promptTokens: 0,
    completionTokens: 0,
    ...(error ? { error } : {}),
  };
}

function failureOf(error: unknown): { code: string; detail: string } {
  const cause = typedFailureOf(error);
  return {
    code: cause?.type ?? 'replay_failed',
    detail: cause?.message ?? (error instanceof Error ? error.message : String(error)),
  };
}

/**
 * Children at once: the replay's concurrency, at most each used provider's. Each child calls one provider at a time,
 * so this also bounds the calls in flight to every provider.
 */
function effectiveConcurrency(input: ReplayBatchInput): number {
  const used = new Set([...input.arms.map((arm) => arm.provider), ...(input.judge ? [input.judge.provider] : [])]);
  let concurrency = input.limits.concurrency;
  for (const provider of used) {
    const limit = input.limits.providers[provider]?.concurrency;
    if (limit !== undefined) concurrency = Math.min(concurrency, limit);
  }
  return Math.max(1, concurrency);
}

/**
 * Each child's share of every rate-limited provider: with `concurrency` children each waiting this long between two
 * calls to a provider, the replay as a whole stays within the provider's requests per second.
 */
function pacingFor(input: ReplayBatchInput, concurrency: number): Record<string, number> {
  const pacing: Record<string, number> = {};
  for (const [provider, limit] of Object.entries(input.limits.providers)) {
    if (limit.requestsPerSecond) pacing[provider] = Math.ceil((1000 * concurrency) / limit.requestsPerSecond);
  }
  return pacing;
}
