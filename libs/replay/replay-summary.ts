import type {
  ReplayAnswerMetrics,
  ReplayArm,
  ReplayBucket,
  ReplayJudge,
  ReplayVerdict,
} from '../contracts/replay.contract';

/** z for a two-sided 95 % interval. */
const Z95 = 1.959964;

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface ArmSummary {
  arm: number;
  label: string;
  model: string;
  /** User turns this arm answered or failed to answer. */
  turns: number;
  failed: number;
  refusals: number;
  /** What the verdicts compare this arm with; null when it was not judged. */
  against: ReplayJudge['against'] | null;
  judged: number;
  wins: number;
  ties: number;
  losses: number;
  /** wins / (wins + losses) with its 95 % Wilson score interval; null without a decisive verdict. */
  winRate: Interval | null;
  buckets: Record<ReplayBucket, number>;
  tokens: { prompt: number; completion: number; total: number };
  latencyMs: Percentiles | null;
  firstTokenMs: Percentiles | null;
  meanLength: number | null;
  meanCitations: number | null;
  /** Mean overlap of its citations with the original's, over the turns where either cited something. */
  meanCitationOverlap: number | null;
}

/** The original answers of the replayed turns, for the same figures. */
export interface OriginalSummary {
  turns: number;
  /** Turns whose branch had no answer to the user's message. */
  missing: number;
  refusals: number;
  tokens: { prompt: number; completion: number; total: number };
  latencyMs: Percentiles | null;
  meanLength: number | null;
  meanCitations: number | null;
}

export interface ReplaySummary {
  arms: ArmSummary[];
  original: OriginalSummary;
}

/** What one stored result adds to the summary. */
export interface SummaryInput {
  armIndex: number;
  status: 'complete' | 'failed';
  metrics: ReplayAnswerMetrics;
  originalMetrics: ReplayAnswerMetrics | null;
  verdict: ReplayVerdict | null;
  bucket: ReplayBucket;
}

class ArmTally {
  turns = 0;
  failed = 0;
  refusals = 0;
  wins = 0;
  ties = 0;
  losses = 0;
  against: ReplayJudge['against'] | null = null;
  buckets: Record<ReplayBucket, number> = { improved: 0, regressed: 0, unchanged: 0 };
  prompt = 0;
  completion = 0;
  latencies: number[] = [];
  firstTokens: number[] = [];
  lengthSum = 0;
  citationSum = 0;
  answered = 0;
  overlaps: number[] = [];
}

/**
 * Adds up a replay's results, page by page (a replay of 10 000 conversations has tens of thousands), into a summary
 * per arm: win/tie/loss with a confidence interval, buckets, tokens, latency percentiles; and the originals' figures,
 * counted once per turn (from the first arm's rows, every arm answers every turn).
 */
export class ReplaySummaryBuilder {
  private readonly tallies: ArmTally[];
  private readonly original = {
    turns: 0,
    missing: 0,
    refusals: 0,
    prompt: 0,
    completion: 0,
    latencies: [] as number[],
    lengthSum: 0,
    citationSum: 0,
  };

  constructor(private readonly arms: readonly Pick<ReplayArm, 'index' | 'label' | 'model'>[]) {
    this.tallies = arms.map(() => new ArmTally());
  }

  add(row: SummaryInput): void {
    const tally = this.tallies[row.armIndex];
    if (!tally) return;
    const { metrics } = row;
    tally.turns += 1;
    tally.buckets[row.bucket] += 1;
    if (row.status === 'failed' || metrics.failed) {
      tally.failed += 1;
    } else {
      if (metrics.refusal) tally.refusals += 1;
      tally.answered += 1;
      tally.lengthSum += metrics.length;
      tally.citationSum += metrics.citations;
      if (metrics.citationOverlap !== null) tally.overlaps.push(metrics.citationOverlap);
      if (metrics.latencyMs !== null) tally.latencies.push(metrics.latencyMs);
      if (metrics.firstTokenMs !== null) tally.firstTokens.push(metrics.firstTokenMs);
    }
    tally.prompt += metrics.promptTokens ?? 0;
    tally.completion += metrics.completionTokens ?? 0;
    if (row.verdict) {
      tally.against = row.verdict.against;
      if (row.verdict.outcome === 'win') tally.wins += 1;
      else if (row.verdict.outcome === 'loss') tally.losses += 1;
      else tally.ties += 1;
    }
    if (row.armIndex === this.arms[0]?.index) this.addOriginal(row.originalMetrics);
  }

  private addOriginal(metrics: ReplayAnswerMetrics | null): void {
    const original = this.original;
    original.turns += 1;
    if (!metrics) {
      original.missing += 1;
      return;
    }
    if (metrics.refusal) original.refusals += 1;
    original.prompt += metrics.promptTokens ?? 0;
    original.completion += metrics.completionTokens ?? 0;
    if (metrics.latencyMs !== null) original.latencies.push(metrics.latencyMs);
    original.lengthSum += metrics.length;
    original.citationSum += metrics.citations;
  }

  result(): ReplaySummary {
    const answered = this.original.turns - this.original.missing;
    return {
      arms: this.arms.map((arm, position) => {
        const tally = this.tallies[position]!;
        const decisive = tally.wins + tally.losses;
        return {
          arm: arm.index,
          label: arm.label,
          model: arm.model,
          turns: tally.turns,
          failed: tally.failed,
          refusals: tally.refusals,
          against: tally.against,
          judged: tally.wins + tally.ties + tally.losses,
          wins: tally.wins,
          ties: tally.ties,
          losses: tally.losses,
          winRate: decisive > 0 ? wilson(tally.wins, decisive) : null,
          buckets: tally.buckets,
          tokens: { prompt: tally.prompt, completion: tally.completion, total: tally.prompt + tally.completion },
          latencyMs: percentiles(tally.latencies),
          firstTokenMs: percentiles(tally.firstTokens),
          meanLength: mean(tally.lengthSum, tally.answered),
          meanCitations: mean(tally.citationSum, tally.answered),
          meanCitationOverlap:
            tally.overlaps.length > 0 ? round(tally.overlaps.reduce((a, b) => a + b, 0) / tally.overlaps.length) : null,
        };
      }),
      original: {
        turns: this.original.turns,
        missing: this.original.missing,
        refusals: this.original.refusals,
        tokens: {
          prompt: this.original.prompt,
          completion: this.original.completion,
          total: this.original.prompt + this.original.completion,
        },
        latencyMs: percentiles(this.original.latencies),
        meanLength: mean(this.original.lengthSum, answered),
        meanCitations: mean(this.original.citationSum, answered),
      },
    };
  }
}

/** The Wilson score interval of `successes` out of `trials` at 95 %: honest at small counts, never outside [0, 1]. */
export function wilson(successes: number, trials: number): Interval {
  if (trials <= 0) return { value: 0, low: 0, high: 1 };
  const p = successes / trials;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { value: round(p), low: round(Math.max(0, centre - half)), high: round(Math.min(1, centre + half)) };
}

/** Nearest-rank p50 and p95; null for no values. */
export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: rank(0.5), p95: rank(0.95) };
}

function mean(sum: number, n: number): number | null {
  return n > 0 ? round(sum / n) : null;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
