import type { Citation } from '../contracts/chat-turn.contract';
import type { ReplayAnswerMetrics, ReplayBucket, ReplayVerdict } from '../contracts/replay.contract';

/**
 * Phrases models open a refusal with. Checked on the start of an answer only: an answer that quotes "I can't" deep
 * inside a helpful reply is not a refusal.
 */
const REFUSAL = [
  /\bI(?:'m| am) sorry,? but I (?:can(?:no|')t|won't|am (?:not able|unable))\b/i,
  /\bI (?:can(?:no|')t|won't|am unable to|am not able to) (?:help|assist|comply|provide|answer|do that)\b/i,
  /\bas an AI(?: language model)?,? I (?:can(?:no|')t|am not able)\b/i,
];
const REFUSAL_WINDOW_CHARS = 200;

/** Whether an answer declines to answer. */
export function isRefusal(content: string): boolean {
  const start = content.trim().slice(0, REFUSAL_WINDOW_CHARS);
  return REFUSAL.some((pattern) => pattern.test(start));
}

/** What makes two citations the same source: the chunk, else the URL, else the file and title. */
function citationKey(citation: Citation): string {
  if (citation.chunkId) return `chunk:${citation.chunkId}`;
  if (citation.url) return `url:${citation.url}`;
  return `${citation.kind}:${citation.fileId ?? ''}:${citation.title}`;
}

/** Jaccard overlap of two answers' cited sources (1 = the same sources); null when neither cites anything. */
export function citationOverlap(a: readonly Citation[], b: readonly Citation[]): number | null {
  const left = new Set(a.map(citationKey));
  const right = new Set(b.map(citationKey));
  const union = new Set([...left, ...right]);
  if (union.size === 0) return null;
  let shared = 0;
  for (const key of left) if (right.has(key)) shared += 1;
  return shared / union.size;
}

/** An answer as the metrics see it. */
export interface MeasuredAnswer {
  content: string;
  citations: readonly Citation[];
  failed: boolean;
  latencyMs?: number | null;
  firstTokenMs?: number | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
}

/** The deterministic metrics of an answer, its citations compared with those of `comparedWith` (when given). */
export function measureAnswer(answer: MeasuredAnswer, comparedWith?: readonly Citation[]): ReplayAnswerMetrics {
  return {
    latencyMs: answer.latencyMs ?? null,
    firstTokenMs: answer.firstTokenMs ?? null,
    promptTokens: answer.promptTokens ?? null,
    completionTokens: answer.completionTokens ?? null,
    length: answer.content.length,
    citations: answer.citations.length,
    citationOverlap: comparedWith ? citationOverlap(answer.citations, comparedWith) : null,
    refusal: !answer.failed && isRefusal(answer.content),
    failed: answer.failed,
  };
}

const fallsShort = (metrics: ReplayAnswerMetrics): boolean => metrics.failed || metrics.refusal;

/**
 * Where an answer stands against what it is compared with. A judge's verdict decides when there is one (win →
 * improved, loss → regressed, tie → unchanged). Without one, only what the metrics can tell: an answer that failed or
 * refused where the other did not is regressed (and the reverse improved); so is one that cites nothing where the
 * other cited sources. Anything else is unchanged. With nothing to compare with, an answer is an improvement unless it
 * falls short itself.
 */
export function bucketOf(
  arm: ReplayAnswerMetrics,
  baseline: ReplayAnswerMetrics | null,
  verdict?: Pick<ReplayVerdict, 'outcome'> | null,
): ReplayBucket {
  if (verdict) return verdict.outcome === 'win' ? 'improved' : verdict.outcome === 'loss' ? 'regressed' : 'unchanged';
  if (!baseline) return fallsShort(arm) ? 'unchanged' : 'improved';
  if (fallsShort(arm) !== fallsShort(baseline)) return fallsShort(arm) ? 'regressed' : 'improved';
  if (fallsShort(arm)) return 'unchanged';
  if (baseline.citations > 0 && arm.citations === 0) return 'regressed';
  if (arm.citations > 0 && baseline.citations === 0) return 'improved';
  return 'unchanged';
}
