import type { Citation } from '#libs/contracts/chat-turn.contract';
import type {
  ReplayAnswer,
  ReplayAnswerMetrics,
  ReplayBucket,
  ReplayJudge,
  ReplayStepRef,
  ReplayTurnRef,
} from '#libs/contracts/replay.contract';
import { isMissingReference } from '#libs/db/database-errors';
import { bucketOf, measureAnswer } from '#libs/replay/replay-metrics';
import { conversationGone } from './load-replay-turns.activity';
import { type ReplayActivityContext, replayLogger } from './replay-activity-deps';

export interface StoredReplayResult {
  /** False when this turn and arm had an answer stored already (a re-run step): the stored one stands. */
  stored: boolean;
  status: 'complete' | 'failed';
  bucket: ReplayBucket;
  promptTokens: number;
  completionTokens: number;
}

export function createStoreReplayResult(deps: ReplayActivityContext) {
  const { db } = deps;

  /** The original answer as the metrics see it: its text, citations, usage, and its turn's time to completion. */
  const originalOf = async (turn: ReplayTurnRef) => {
    if (!turn.originalMessageId) return undefined;
    const message = await db.messages.findById(turn.originalMessageId);
    if (!message) return undefined;
    const [row] = message.turnId ? await db.turns.findByIds([message.turnId]) : [];
    const latencyMs = row?.completedAt ? row.completedAt.getTime() - row.createdAt.getTime() : null;
    const citations = message.citations ?? [];
    return {
      citations,
      metrics: measureAnswer({
        content: message.content,
        citations,
        failed: message.status === 'failed',
        latencyMs,
        promptTokens: message.usage?.promptTokens ?? null,
        completionTokens: message.usage?.completionTokens ?? null,
      }),
    };
  };

  return {
    /**
     * Keeps an arm's answer to one user turn (or why it has none) with its metrics, the original answer's, and the
     * bucket the metrics put it in (a judge may move it later). Stored once per replay, conversation, turn and arm: a
     * step that runs again after a worker crash finds the first answer there and keeps it.
     */
    async storeReplayResult(args: {
      ref: ReplayStepRef;
      turn: ReplayTurnRef;
      answer: ReplayAnswer;
      /** With a judge comparing arms with the first one, arms after it are bucketed against it too. */
      against?: ReplayJudge['against'];
    }): Promise<StoredReplayResult> {
      const { ref, turn, answer } = args;
      const original = await originalOf(turn);
      let baseline: { citations: Citation[]; metrics: ReplayAnswerMetrics } | undefined = original;
      if (args.against === 'first-arm' && ref.armIndex > 0) {
        const first = await db.replays.findResult(ref.replayId, ref.conversationId, ref.turnIndex, 0);
        baseline = first ? { citations: first.citations ?? [], metrics: first.metrics } : undefined;
      }
      const complete = answer.status === 'complete' ? answer : undefined;
      const metrics = measureAnswer(
        {
          content: complete?.content ?? '',
          citations: complete?.citations ?? [],
          failed: !complete,
          latencyMs: complete?.latencyMs ?? null,
          firstTokenMs: complete?.firstTokenMs ?? null,
          promptTokens: complete?.usage?.promptTokens ?? null,
          completionTokens: complete?.usage?.completionTokens ?? null,
        },
        baseline?.citations ?? [],
      );
      const row = {
        replayId: ref.replayId,
        conversationId: ref.conversationId,
        turnIndex: ref.turnIndex,
        armIndex: ref.armIndex,
        userMessageId: turn.userMessageId,
        originalMessageId: turn.originalMessageId,
        status: answer.status,
        content: complete?.content ?? '',
        model: complete?.model ?? null,
        provider: complete?.provider ?? null,
        citations: complete?.citations ?? null,
        metrics,
        originalMetrics: original?.metrics ?? null,
        verdict: null,
        bucket: bucketOf(metrics, baseline?.metrics ?? null),
        errorCode: answer.status === 'failed' ? answer.code.slice(0, 64) : null,
        errorDetail: answer.status === 'failed' ? answer.detail.slice(0, 1000) : null,
      };
      let stored: boolean;
      try {
        stored = await db.replays.insertResult(row);
      } catch (error) {
        // Deleted after its answer was generated: nothing to keep (its answers went with it).
        if (isMissingReference(error)) throw conversationGone(ref.conversationId);
        throw error;
      }
      replayLogger(deps.logger, ref.replayId, ref.conversationId, 'storeReplayResult').debug(
        { turnIndex: ref.turnIndex, armIndex: ref.armIndex, status: row.status, bucket: row.bucket, stored },
        'replay result stored',
      );
      if (!stored) {
        // Stored already (the step ran before a worker crash): the first answer stands.
        const first = await db.replays.findResult(ref.replayId, ref.conversationId, ref.turnIndex, ref.armIndex);
        if (first) return resultOf(first, false);
      }
      return resultOf(row, stored);
    },
  };
}

function resultOf(
  row: { status: 'complete' | 'failed'; bucket: ReplayBucket; metrics: ReplayAnswerMetrics },
  stored: boolean,
): StoredReplayResult {
  return {
    stored,
    status: row.status,
    bucket: row.bucket,
    promptTokens: row.metrics.promptTokens ?? 0,
    completionTokens: row.metrics.completionTokens ?? 0,
  };
}
