import type { ToolCallOutcome, ToolCallRecord } from '../api/types';

/** A call's outcome in words. */
export const OUTCOME_TEXT: Record<ToolCallOutcome, string> = {
  completed: 'done',
  failed: 'failed',
  invalid: 'not run: invalid call',
  denied: 'denied',
  approval_timed_out: 'not approved in time',
  cancelled: 'cancelled',
};

export const outcomeClass = (outcome: ToolCallOutcome): string =>
  outcome === 'completed' ? 'badge ok' : outcome === 'failed' || outcome === 'invalid' ? 'badge bad' : 'badge warn';

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The model's arguments as one short line (they are JSON text; a long one is cut). */
export function argumentsLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** The tools a saved answer was made with, collapsed under it: each call's name, outcome and what came back. */
export function ToolCalls({ calls }: { calls: ToolCallRecord[] }) {
  if (calls.length === 0) return null;
  return (
    <details class="tool-calls">
      <summary>Used tools ({calls.length === 1 ? '1 call' : `${calls.length} calls`})</summary>
      <ol aria-label="Tool calls">
        {calls.map((call) => (
          <li key={call.id} class="tool-call">
            <code>{call.name}</code> <span class={outcomeClass(call.outcome)}>{OUTCOME_TEXT[call.outcome]}</span>
            {call.summary && <span class="tool-summary"> {call.summary}</span>}
          </li>
        ))}
      </ol>
    </details>
  );
}
