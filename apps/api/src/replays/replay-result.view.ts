import type { Citation } from '#libs/contracts/chat-turn.contract';
import type { ReplayAnswerMetrics, ReplayArm, ReplayBucket, ReplayVerdict } from '#libs/contracts/replay.contract';
import type { ReplayResultWithMessages } from '#libs/db/repositories/replay.repository';
import { ValidationError } from '#libs/errors/app-error';

/** One user turn answered by one arm, beside the original answer. */
export interface ReplayResultView {
  id: string;
  conversationId: string;
  turnIndex: number;
  /** The user's message (null when it was deleted since). */
  userMessage: { id: string; content: string | null };
  /** The answer the conversation holds (null when it had none, or it was deleted since). */
  original: {
    id: string;
    content: string;
    model: string | null;
    citations: Citation[];
    metrics: ReplayAnswerMetrics | null;
  } | null;
  arm: {
    index: number;
    label: string;
    status: 'complete' | 'failed';
    content: string;
    /** The model that answered (a provider's fallback may have answered with another). */
    model: string | null;
    provider: string | null;
    citations: Citation[];
    metrics: ReplayAnswerMetrics;
    error: { code: string; detail: string } | null;
  };
  verdict: ReplayVerdict | null;
  bucket: ReplayBucket;
  createdAt: string;
}

export interface ReplayResultPage {
  items: ReplayResultView[];
  nextCursor: string | null;
}

export function toReplayResultView(
  { result, userMessage, original }: ReplayResultWithMessages,
  arms: readonly ReplayArm[],
): ReplayResultView {
  return {
    id: result.id,
    conversationId: result.conversationId,
    turnIndex: result.turnIndex,
    userMessage: { id: result.userMessageId, content: userMessage?.content ?? null },
    original:
      result.originalMessageId && original
        ? {
            id: original.id,
            content: original.content,
            model: original.model,
            citations: original.citations ?? [],
            metrics: result.originalMetrics,
          }
        : null,
    arm: {
      index: result.armIndex,
      label: arms[result.armIndex]?.label ?? String(result.armIndex),
      status: result.status,
      content: result.content,
      model: result.model,
      provider: result.provider,
      citations: result.citations ?? [],
      metrics: result.metrics,
      error: result.errorCode ? { code: result.errorCode, detail: result.errorDetail ?? '' } : null,
    },
    verdict: result.verdict,
    bucket: result.bucket,
    createdAt: result.createdAt.toISOString(),
  };
}

/** The page cursor: the last result's id, opaque to clients. */
export function encodeResultCursor(id: string): string {
  return Buffer.from(`r:${id}`).toString('base64url');
}

export function decodeResultCursor(value: string): string {
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  const id = /^r:(\d{1,20})$/.exec(decoded)?.[1];
  if (!id) throw new ValidationError([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  return id;
}
