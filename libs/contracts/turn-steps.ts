/**
 * A turn's steps and what each step's outcome means for its state: the workflow records steps with these (its
 * `progress` query and the turn row), and the activities stream the very same steps as `step` events. Pure: the
 * workflow bundle imports this file.
 */
import type {
  GenerationOutput,
  LoadedContext,
  PreparedTurn,
  SourcesOutcome,
  StepName,
  TurnStep,
} from './chat-turn.contract';

/** The steps a turn starts with, all pending. Turns recorded before retrieval and web search have neither. */
export function initialSteps(withSources: boolean): TurnStep[] {
  const names: StepName[] = withSources
    ? ['context', 'retrieval', 'web_search', 'generation', 'persistence']
    : ['context', 'generation', 'persistence'];
  return names.map((name) => ({ name, status: 'pending' }));
}

export const stepRunning = (name: StepName): TurnStep => ({ name, status: 'running' });

export const webSearchNotRequested = (): TurnStep => ({
  name: 'web_search',
  status: 'skipped',
  detail: 'not requested',
});

export const contextLoaded = (context: LoadedContext): TurnStep => ({
  name: 'context',
  status: 'completed',
  detail: `${context.messages.length} messages, ${context.promptTokens} tokens`,
});

export const sourcesFound = (name: 'retrieval' | 'web_search', outcome: SourcesOutcome): TurnStep => ({
  name,
  status: outcome.status,
  detail: outcome.detail,
});

export const generated = (generation: Pick<GenerationOutput, 'provider' | 'model'>): TurnStep => ({
  name: 'generation',
  status: 'completed',
  detail: `${generation.provider}/${generation.model}`,
});

export const persisted = (): TurnStep => ({ name: 'persistence', status: 'completed' });

export const stepFailed = (name: StepName, detail: string): TurnStep => ({ name, status: 'failed', detail });

/** `steps` with the step of the same name replaced by `step` (steps not in the list are ignored). */
export function withStep(steps: readonly TurnStep[], step: TurnStep): TurnStep[] {
  return steps.map((each) => (each.name === step.name ? { ...step } : each));
}

/**
 * A turn with sources as it starts preparing (`prepareTurn`): the history, retrieval and, when asked for, web search
 * running side by side; web search skipped when not.
 */
export function preparingSteps(steps: readonly TurnStep[], webSearch: boolean | undefined): TurnStep[] {
  const marks = [
    stepRunning('context'),
    webSearch ? stepRunning('web_search') : webSearchNotRequested(),
    stepRunning('retrieval'),
  ];
  return marks.reduce(withStep, [...steps]);
}

/** A turn with sources once `prepareTurn` answered: what each source found, and the history loaded. */
export function preparedSteps(steps: readonly TurnStep[], turn: PreparedTurn): TurnStep[] {
  const marks = [
    sourcesFound('retrieval', turn.retrieval),
    ...(turn.webSearch ? [sourcesFound('web_search', turn.webSearch)] : []),
    contextLoaded(turn.context),
  ];
  return marks.reduce(withStep, [...steps]);
}
