import { useState } from 'preact/hooks';
import type { LiveToolCall } from '../lib/live-turn';
import { argumentsLine, formatDuration, OUTCOME_TEXT, outcomeClass } from './tool-calls';

interface Props {
  calls: LiveToolCall[];
  /** Approves or denies a waiting call; resolves when the server has answered (errors are shown by the caller). */
  onDecide: (callId: string, approve: boolean) => Promise<void>;
}

const clock = (iso: string): string => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { timeStyle: 'medium' });
};

/**
 * The tool calls of the answer being written: name and arguments as asked, then outcome, summary and duration. A call
 * that waits for approval offers Approve / Deny until it is decided, times out or ends.
 */
export function LiveToolCalls({ calls, onDecide }: Props) {
  const [deciding, setDeciding] = useState<string>();
  if (calls.length === 0) return null;

  const decide = async (callId: string, approve: boolean) => {
    setDeciding(callId);
    try {
      await onDecide(callId, approve);
    } finally {
      setDeciding(undefined);
    }
  };

  return (
    <ol class="tool-calls live" aria-label="Tool calls">
      {calls.map((call) => (
        <li key={call.callId} class="tool-call">
          <code>{call.name}</code> <code class="tool-args">{argumentsLine(call.arguments)}</code>
          <div class="tool-state">
            {call.result ? (
              <>
                <span class={outcomeClass(call.result.outcome)}>{OUTCOME_TEXT[call.result.outcome]}</span>
                {call.result.summary && <span class="tool-summary"> {call.result.summary}</span>}
                <span class="muted"> · {formatDuration(call.result.durationMs)}</span>
              </>
            ) : call.invalid ? (
              <span class="badge bad">not run: {call.invalid}</span>
            ) : call.approvalExpiresAt ? (
              <div class="tool-approval" role="group" aria-label={`Approval of ${call.name}`}>
                <span>
                  Waits for your approval until{' '}
                  <time dateTime={call.approvalExpiresAt}>{clock(call.approvalExpiresAt)}</time>.
                </span>
                <button
                  type="button"
                  class="small"
                  aria-label={`Approve ${call.name}`}
                  disabled={deciding === call.callId}
                  onClick={() => void decide(call.callId, true)}
                >
                  Approve
                </button>
                <button
                  type="button"
                  class="small danger"
                  aria-label={`Deny ${call.name}`}
                  disabled={deciding === call.callId}
                  onClick={() => void decide(call.callId, false)}
                >
                  Deny
                </button>
              </div>
            ) : (
              <span class="muted">
                {call.decision === 'denied'
                  ? 'Denied.'
                  : call.decision === 'approved'
                    ? 'Approved, running…'
                    : call.requiresApproval
                      ? 'Needs your approval…'
                      : 'Running…'}
              </span>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
