import { parse as parseCsv } from 'csv-parse/sync';
import { renderReport, REPLAY_CSV_COLUMNS, type ReplayReport } from './replay-report';
import { ReplaySummaryBuilder } from './replay-summary';

function report(): ReplayReport {
  const builder = new ReplaySummaryBuilder([
    { index: 0, label: 'new, "improved" | prompt', model: 'm-new' },
    { index: 1, label: 'old', model: 'm-old' },
  ]);
  const metrics = {
    latencyMs: 120,
    firstTokenMs: 15,
    promptTokens: 40,
    completionTokens: 12,
    length: 60,
    citations: 0,
    citationOverlap: null,
    refusal: false,
    failed: false,
  };
  const verdict = (outcome: 'win' | 'loss') => ({
    outcome,
    reason: '',
    order: 'arm-first' as const,
    judgeModel: 'j',
    against: 'original' as const,
  });
  for (let i = 0; i < 20; i++) {
    builder.add({
      armIndex: 0,
      status: 'complete',
      metrics,
      originalMetrics: metrics,
      verdict: verdict('win'),
      bucket: 'improved',
    });
    builder.add({
      armIndex: 1,
      status: 'complete',
      metrics,
      originalMetrics: metrics,
      verdict: verdict(i < 10 ? 'win' : 'loss'),
      bucket: 'unchanged',
    });
  }
  return {
    replay: {
      id: 'r-1',
      status: 'completed',
      mode: 'pinned',
      selection: { query: 'travel\npolicy' },
      arms: [],
      judge: { model: 'j', provider: 'p', against: 'original', rubric: 'r' },
      createdAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:10:00.000Z',
      progress: null,
    },
    summary: builder.result(),
    failedConversations: [
      { conversationId: 'c-9', code: 'conversation_gone', detail: 'Conversation c-9 no longer exists' },
    ],
  };
}

describe('replay report', () => {
  it('JSON: the whole report, parsed back as it was', () => {
    const value = report();
    expect(JSON.parse(renderReport(value, 'json'))).toEqual(value);
  });

  it('CSV: one row per arm and one for the originals, quoted where needed, parsed back to the same figures', () => {
    const value = report();
    const text = renderReport(value, 'csv');
    const rows: Record<string, string>[] = parseCsv(text, { columns: true });
    expect(Object.keys(rows[0]!)).toEqual([...REPLAY_CSV_COLUMNS]);
    expect(rows.map((row) => row.arm)).toEqual(['0', '1', 'original']);
    const arm = value.summary.arms[0]!;
    expect(rows[0]).toMatchObject({
      label: 'new, "improved" | prompt',
      wins: '20',
      win_rate: String(arm.winRate!.value),
      win_rate_low: String(arm.winRate!.low),
      win_rate_high: String(arm.winRate!.high),
      latency_p95_ms: '120',
      mean_citation_overlap: '',
    });
    expect(rows[1]).toMatchObject({ wins: '10', losses: '10' });
    expect(rows[2]).toMatchObject({ turns: '20', completion_tokens: '240' });
  });

  it('Markdown: the replay, a table row per arm, a verdict per arm by its interval, the failed conversations', () => {
    const text = renderReport(report(), 'md');
    expect(text).toContain('# Replay r-1');
    expect(text).toContain('- Selection: conversations matching "travel policy"');
    const rows = text.split('\n').filter((line) => /^\| (0|1|original) \|/.test(line));
    expect(rows).toHaveLength(3);
    // The pipe in the label is escaped, so the row keeps its 17 cells.
    expect(rows[0]!.split(/(?<!\\)\|/).length).toBe(18);
    expect(text).toContain('Arm 0 (new, "improved" | prompt) vs the original answers: **better** — 20 wins');
    expect(text).toContain('Arm 1 (old) vs the original answers: **no clear difference** — 10 wins, 0 ties, 10 losses');
    expect(text).toContain('- c-9: conversation_gone — Conversation c-9 no longer exists');
  });
});
