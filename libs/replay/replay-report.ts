import type { ReplayArm, ReplayJudge, ReplayMode, ReplayProgress, ReplayStatus } from '../contracts/replay.contract';
import { describeSelection, type ReplaySelection } from './replay-selection';
import type { ArmSummary, Percentiles, ReplaySummary } from './replay-summary';

export type ReplayReportFormat = 'json' | 'csv' | 'md';
export const REPLAY_REPORT_FORMATS: readonly ReplayReportFormat[] = ['json', 'csv', 'md'];

/** Everything a report says: the replay, its summary and the conversations that failed. */
export interface ReplayReport {
  replay: {
    id: string;
    status: ReplayStatus;
    mode: ReplayMode;
    selection: ReplaySelection;
    arms: ReplayArm[];
    judge: ReplayJudge | null;
    createdAt: string;
    completedAt: string | null;
    progress: ReplayProgress | null;
  };
  summary: ReplaySummary;
  failedConversations: { conversationId: string; code: string | null; detail: string | null }[];
}

/** The CSV's columns, one row per arm and one for the original answers (`arm` = `original`). */
export const REPLAY_CSV_COLUMNS = [
  'arm',
  'label',
  'model',
  'turns',
  'failed',
  'refusals',
  'against',
  'wins',
  'ties',
  'losses',
  'win_rate',
  'win_rate_low',
  'win_rate_high',
  'improved',
  'regressed',
  'unchanged',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'latency_p50_ms',
  'latency_p95_ms',
  'first_token_p50_ms',
  'first_token_p95_ms',
  'mean_length',
  'mean_citations',
  'mean_citation_overlap',
] as const;

export function renderReport(report: ReplayReport, format: ReplayReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') return renderCsv(report);
  return renderMarkdown(report);
}

type CsvValue = string | number | null | undefined;

function renderCsv({ summary }: ReplayReport): string {
  const rows: CsvValue[][] = summary.arms.map((arm) => [
    arm.arm,
    arm.label,
    arm.model,
    arm.turns,
    arm.failed,
    arm.refusals,
    arm.against,
    arm.wins,
    arm.ties,
    arm.losses,
    arm.winRate?.value,
    arm.winRate?.low,
    arm.winRate?.high,
    arm.buckets.improved,
    arm.buckets.regressed,
    arm.buckets.unchanged,
    arm.tokens.prompt,
    arm.tokens.completion,
    arm.tokens.total,
    arm.latencyMs?.p50,
    arm.latencyMs?.p95,
    arm.firstTokenMs?.p50,
    arm.firstTokenMs?.p95,
    arm.meanLength,
    arm.meanCitations,
    arm.meanCitationOverlap,
  ]);
  const original = summary.original;
  rows.push([
    'original',
    'original',
    '',
    original.turns,
    original.missing,
    original.refusals,
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    original.tokens.prompt,
    original.tokens.completion,
    original.tokens.total,
    original.latencyMs?.p50,
    original.latencyMs?.p95,
    '',
    '',
    original.meanLength,
    original.meanCitations,
    '',
  ]);
  return [REPLAY_CSV_COLUMNS.map(csvField), ...rows.map((row) => row.map(csvField))]
    .map((fields) => fields.join(','))
    .join('\r\n')
    .concat('\r\n');
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break (quotes doubled); empty for no value. */
function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function renderMarkdown({ replay, summary, failedConversations }: ReplayReport): string {
  const lines: string[] = [];
  const progress = replay.progress;
  lines.push(`# Replay ${replay.id}`, '');
  lines.push(`- Status: **${replay.status}**`);
  lines.push(`- Mode: ${replay.mode}`);
  lines.push(`- Selection: ${escapeText(describeSelection(replay.selection))}`);
  if (progress) {
    const c = progress.conversations;
    lines.push(
      `- Conversations: ${c.done} done, ${c.failed} failed, ${c.cancelled} cancelled of ${c.total}; ` +
        `turns: ${progress.turns.done} answered, ${progress.turns.failed} failed`,
    );
  }
  lines.push(
    `- Judge: ${replay.judge ? `${replay.judge.model}, each arm against ${againstText(replay.judge.against)}` : 'none'}`,
  );
  lines.push(`- Created ${replay.createdAt}${replay.completedAt ? `, ended ${replay.completedAt}` : ''}`, '');

  lines.push('## Arms', '');
  lines.push(
    '| arm | label | model | turns | failed | refusals | wins | ties | losses | win rate (95 % CI) | improved | ' +
      'regressed | unchanged | tokens (prompt + completion) | latency p50 / p95 ms | first token p50 / p95 ms |',
  );
  lines.push(`|${' --- |'.repeat(16)}`);
  for (const arm of summary.arms) lines.push(armRow(arm));
  const original = summary.original;
  lines.push(
    `| original | original | | ${original.turns} | ${original.missing} | ${original.refusals} | | | | | | | | ` +
      `${original.tokens.prompt} + ${original.tokens.completion} | ${pair(original.latencyMs)} | |`,
  );
  lines.push('');

  lines.push('## Verdicts', '');
  for (const arm of summary.arms) lines.push(`- ${verdictLine(arm)}`);
  lines.push('');

  lines.push('## Failed conversations', '');
  if (failedConversations.length === 0) lines.push('None.');
  for (const failed of failedConversations) {
    lines.push(`- ${failed.conversationId}: ${escapeText(`${failed.code ?? 'failed'} — ${failed.detail ?? ''}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

function armRow(arm: ArmSummary): string {
  const rate = arm.winRate ? `${arm.winRate.value} (${arm.winRate.low}–${arm.winRate.high})` : '';
  return (
    `| ${arm.arm} | ${escapeCell(arm.label)} | ${escapeCell(arm.model)} | ${arm.turns} | ${arm.failed} | ` +
    `${arm.refusals} | ${arm.wins} | ${arm.ties} | ${arm.losses} | ${rate} | ${arm.buckets.improved} | ` +
    `${arm.buckets.regressed} | ${arm.buckets.unchanged} | ${arm.tokens.prompt} + ${arm.tokens.completion} | ` +
    `${pair(arm.latencyMs)} | ${pair(arm.firstTokenMs)} |`
  );
}

/** Where the arm stands, in words: better, worse or no clear difference, by the interval. */
function verdictLine(arm: ArmSummary): string {
  const name = `Arm ${arm.arm} (${escapeText(arm.label)})`;
  const buckets = `${arm.buckets.improved} improved, ${arm.buckets.regressed} regressed, ${arm.buckets.unchanged} unchanged`;
  if (!arm.against || arm.judged === 0) return `${name}: not judged; ${buckets}.`;
  const against = againstText(arm.against);
  if (!arm.winRate) return `${name} vs ${against}: ${arm.ties} ties, no decisive verdict; ${buckets}.`;
  const { value, low, high } = arm.winRate;
  const call = low > 0.5 ? 'better' : high < 0.5 ? 'worse' : 'no clear difference';
  return (
    `${name} vs ${against}: **${call}** — ${arm.wins} wins, ${arm.ties} ties, ${arm.losses} losses; ` +
    `win rate ${value} (95 % CI ${low}–${high}); ${buckets}.`
  );
}

function againstText(against: ReplayJudge['against']): string {
  return against === 'original' ? 'the original answers' : 'arm 0';
}

function pair(values: Percentiles | null): string {
  return values ? `${values.p50} / ${values.p95}` : '';
}

function escapeCell(text: string): string {
  return escapeText(text).replace(/\|/g, '\\|');
}

function escapeText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
