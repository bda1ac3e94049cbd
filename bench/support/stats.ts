/** Latency figures of one series, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array: the smallest sample with at least `p` % of samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, x) => total + x, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Rounds every number of a summary to 0.1 ms, for reports. */
export function rounded(summary: LatencySummary): LatencySummary {
  const r = (x: number): number => round1(x);
  return {
    count: summary.count,
    min: r(summary.min),
    mean: r(summary.mean),
    p50: r(summary.p50),
    p95: r(summary.p95),
    p99: r(summary.p99),
    max: r(summary.max),
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A range that holds the true median of what was sampled with the stated confidence. */
export interface MedianInterval {
  low: number;
  high: number;
  /** The confidence the range really has (order statistics give it in steps, at least the one asked for). */
  confidence: number;
}

/**
 * A distribution-free confidence interval for the median (the sign test's order statistics): the true median lies
 * below any one sample with probability ½, so it lies between the k-th smallest and the k-th largest of n samples
 * unless k − 1 or fewer fall on one side of it, a binomial tail. k is the largest whose interval still has at
 * least `confidence`. Undefined for fewer samples than that confidence needs (six for 95 %).
 */
export function medianConfidenceInterval(values: readonly number[], confidence = 0.95): MedianInterval | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // [x(k), x(n − k + 1)] (1-based) misses the median when k − 1 or fewer samples fall on one side: 2 · P(B ≤ k − 1).
  const coverage = (k: number) => 1 - 2 * binomialAtMost(n, k - 1);
  let k = 0;
  while (2 * (k + 1) <= n + 1 && coverage(k + 1) >= confidence) k++;
  if (k === 0) return undefined;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, confidence: coverage(k) };
}

/** P(B ≤ at) for B ~ Binomial(n, ½). */
function binomialAtMost(n: number, at: number): number {
  let probability = 0.5 ** n;
  let sum = 0;
  for (let i = 0; i <= at; i++) {
    sum += probability;
    probability = (probability * (n - i)) / (i + 1);
  }
  return sum;
}
