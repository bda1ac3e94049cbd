import type { TurnStep } from '../api/types';

const NAMES: Record<string, string> = {
  context: 'Reading the conversation',
  retrieval: 'Searching your files',
  web_search: 'Searching the web',
  generation: 'Writing the answer',
  persistence: 'Saving',
};

const STATUS: Record<string, string> = {
  pending: 'waiting',
  running: 'in progress',
  completed: 'done',
  failed: 'failed',
  skipped: 'skipped',
  restarted: 'started over',
};

/** The running turn's steps (context, retrieval, web search, generation), as a list a screen reader can walk. */
export function TurnSteps({ steps }: { steps: TurnStep[] }) {
  if (steps.length === 0) return null;
  return (
    <ol class="steps" aria-label="Progress of this answer">
      {steps.map((step) => (
        <li key={step.name} class={`step step-${step.status}`}>
          <span class="step-icon" aria-hidden="true">
            {step.status === 'completed' ? '✓' : step.status === 'failed' ? '✕' : step.status === 'skipped' ? '–' : '•'}
          </span>
          {NAMES[step.name] ?? step.name}: <span class="step-status">{STATUS[step.status] ?? step.status}</span>
          {step.detail && <span class="muted"> ({step.detail})</span>}
        </li>
      ))}
    </ol>
  );
}
