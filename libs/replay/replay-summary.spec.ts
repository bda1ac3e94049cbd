import type { ReplayAnswerMetrics, ReplayVerdict } from '../contracts/replay.contract';
import { percentiles, ReplaySummaryBuilder, type SummaryInput, wilson } from './replay-summary';

const metrics = (over: Partial<ReplayAnswerMetrics> = {}): ReplayAnswerMetrics => ({
  latencyMs: 100,
  firstTokenMs: 10,
  promptTokens: 50,
  completionTokens: 20,
  length: 80,
  citations: 1,
  citationOverlap: 1,
  refusal: false,
  failed: false,
  ...over,
});
const verdict = (outcome: ReplayVerdict['outcome']): ReplayVerdict => ({
  outcome,
  reason: '',
  order: 'arm-first',
  judgeModel: 'judge',
  against: 'original',
});

describe('replay summary', () => {
  it('gives the Wilson score interval at 95 %', () => {
    // Reference values (e.g. statsmodels proportion_confint(method="wilson")).
    expect(wilson(8, 10)).toEqual({ value: 0.8, low: 0.49, high: 0.943 });
    expect(wilson(0, 10)).toEqual({ value: 0, low: 0, high: 0.278 });
    expect(wilson(50, 100)).toEqual({ value: 0.5, low: 0.404, high: 0.596 });
    expect(wilson(0, 0)).toEqual({ value: 0, low: 0, high: 1 });
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentiles([])).toBeNull();
    expect(percentiles([5])).toEqual({ p50: 5, p95: 5 });
    expect(percentiles(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual({ p50: 50, p95: 95 });
  });

  it('sums results per arm: verdicts, buckets, failures, refusals, tokens, latency; the originals once per turn', () => {
    const builder = new ReplaySummaryBuilder([
      { index: 0, label: 'new', model: 'm-new' },
      { index: 1, label: 'old', model: 'm-old' },
    ]);
    const original = metrics({ latencyMs: 400, completionTokens: 30, firstTokenMs: null });
    const rows: SummaryInput[] = [
      {
        armIndex: 0,
        status: 'complete',
        metrics: metrics({ latencyMs: 100 }),
        originalMetrics: original,
        verdict: verdict('win'),
        bucket: 'improved',
      },
      {
        armIndex: 0,
        status: 'complete',
        metrics: metrics({ latencyMs: 300 }),
        originalMetrics: original,
        verdict: verdict('win'),
        bucket: 'improved',
      },
      {
        armIndex: 0,
        status: 'complete',
        metrics: metrics({ refusal: true, latencyMs: 200 }),
        originalMetrics: null,
        verdict: verdict('tie'),
        bucket: 'unchanged',
      },
      {
        armIndex: 0,
        status: 'failed',
        metrics: metrics({ failed: true, latencyMs: null, promptTokens: null, completionTokens: null }),
        originalMetrics: original,
        verdict: null,
        bucket: 'regressed',
      },
      {
        armIndex: 1,
        status: 'complete',
        metrics: metrics(),
        originalMetrics: original,
        verdict: verdict('loss'),
        bucket: 'regressed',
      },
    ];
    for (const row of rows) builder.add(row);
    const summary = builder.result();
    expect(summary.arms[0]).toMatchObject({
      arm: 0,
      label: 'new',
      model: 'm-new',
      turns: 4,
      failed: 1,
      refusals: 1,
      against: 'original',
      judged: 3,
      wins: 2,
      ties: 1,
      losses: 0,
      buckets: { improved: 2, regressed: 1, unchanged: 1 },
      tokens: { prompt: 150, completion: 60, total: 210 },
      latencyMs: { p50: 200, p95: 300 },
      firstTokenMs: { p50: 10, p95: 10 },
      meanLength: 80,
      meanCitations: 1,
      meanCitationOverlap: 1,
    });
    expect(summary.arms[0]!.winRate).toEqual(wilson(2, 2));
    expect(summary.arms[1]).toMatchObject({ turns: 1, wins: 0, losses: 1, winRate: wilson(0, 1) });
    expect(summary.original).toMatchObject({
      turns: 4,
      missing: 1,
      tokens: { prompt: 150, completion: 90, total: 240 },
      latencyMs: { p50: 400, p95: 400 },
    });
  });

  it('reports no win rate without a decisive verdict, and nothing for an arm without results', () => {
    const builder = new ReplaySummaryBuilder([
      { index: 0, label: 'a', model: 'a' },
      { index: 1, label: 'b', model: 'b' },
    ]);
    builder.add({
      armIndex: 0,
      status: 'complete',
      metrics: metrics(),
      originalMetrics: null,
      verdict: verdict('tie'),
      bucket: 'unchanged',
    });
    const [a, b] = builder.result().arms;
    expect(a).toMatchObject({ judged: 1, ties: 1, winRate: null });
    expect(b).toMatchObject({ turns: 0, against: null, winRate: null, latencyMs: null, meanLength: null });
  });
});
