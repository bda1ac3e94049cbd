import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type {
  AnsweredTurn,
  ChatTurnInput,
  GenerationOutput,
  PersistedAssistantMessage,
  PreparedTurn,
  StepName,
  StoppedAtStep,
  TurnStep,
} from '#libs/contracts/chat-turn.contract';
import {
  generated,
  initialSteps,
  persisted,
  preparedSteps,
  preparingSteps,
  stepRunning,
  withStep,
} from '#libs/contracts/turn-steps';
import { inSpan } from '#libs/telemetry/tracing';
import type { GenerateArgs } from './generate.activity';

/** The steps `answerTurn` runs in order: each is an activity of its own in turns of earlier versions. */
export interface TurnSteps {
  prepareTurn(turn: ChatTurnInput): Promise<PreparedTurn>;
  generate(args: GenerateArgs): Promise<GenerationOutput>;
  persistAssistantMessage(args: {
    turn: ChatTurnInput;
    generation: GenerationOutput;
    steps: TurnStep[];
  }): Promise<PersistedAssistantMessage>;
}

export function createAnswerTurn(steps: TurnSteps) {
  return {
    /**
     * A turn without tools, whole (turns of `CHAT_TURN_VERSION` 3 on): `prepareTurn` → `generate` →
     * `persistAssistantMessage`, with the same work, events and outcomes as when they run as three local activities. One step instead of three
     * saves the turn's workflow task two activations and two round trips through the SDK's core, and keeps the history
     * and the answer out of Temporal's history (only the persisted message is recorded). Retried as a whole: every
     * part is idempotent, and a model call that finished on a worker that died is not asked for again (its output is
     * kept in the turn's stream). A failure carries where it stopped (`StoppedAtStep`) as its last detail, for the
     * workflow to record the turn failed or cancelled at that step. Traced, each part is a span of its own
     * (`TurnStep:<step>`) under the activity's.
     */
    async answerTurn(turn: ChatTurnInput): Promise<AnsweredTurn> {
      let current: StepName = 'context';
      let marked = preparingSteps(initialSteps(true), turn.webSearch);
      try {
        const ready = await inSpan('TurnStep:prepareTurn', () => steps.prepareTurn(turn));
        marked = preparedSteps(marked, ready);
        current = 'generation';
        marked = withStep(marked, stepRunning('generation'));
        const { context, retrieval, webSearch } = ready;
        const sources = [...retrieval.sources, ...(webSearch?.sources ?? [])];
        const generation = await inSpan('TurnStep:generate', () => steps.generate({ turn, context, sources }));
        marked = withStep(marked, generated(generation));
        current = 'persistence';
        marked = withStep(marked, stepRunning('persistence'));
        const persisting = { turn, generation, steps: marked };
        const message = await inSpan('TurnStep:persistAssistantMessage', () =>
          steps.persistAssistantMessage(persisting),
        );
        return { message, steps: withStep(marked, persisted()) };
      } catch (error) {
        throw stoppedAt(error, { stoppedAt: current, steps: marked });
      }
    },
  };
}

/**
 * `error` with where the turn stopped appended to its details; its type, message, retryability and cause unchanged
 * (a `CancelledFailure` stays one, so Temporal still reports the step cancelled).
 */
function stoppedAt(error: unknown, where: StoppedAtStep): Error {
  if (error instanceof CancelledFailure) {
    const cancelled = new CancelledFailure(error.message, [...(error.details ?? []), where], error.cause);
    cancelled.stack = error.stack;
    return cancelled;
  }
  const earlier = error instanceof ApplicationFailure ? (error.details ?? []) : [];
  return ApplicationFailure.fromError(error, { details: [...earlier, where] });
}
