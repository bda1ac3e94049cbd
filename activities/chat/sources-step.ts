import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChatTurnInput, SourcesOutcome } from '#libs/contracts/chat-turn.contract';
import { SOURCES_STEP_ATTEMPTS, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { sourcesFound, stepRunning } from '#libs/contracts/turn-steps';
import { type ChatActivityContext, turnLogger } from './chat-activity-deps';

/**
 * Runs a sources step (retrieval, web search) with its live `step` events around it. Sources degrade a turn, never
 * fail it: an error is retried like any step's, and on the last attempt the turn goes on without these sources.
 */
export async function runSourcesStep(
  deps: Pick<ChatActivityContext, 'events' | 'logger'>,
  turn: ChatTurnInput,
  name: 'retrieval' | 'web_search',
  run: () => Promise<SourcesOutcome>,
): Promise<SourcesOutcome> {
  const log = turnLogger(deps.logger, turn, name);
  await deps.events?.append(turn.turnId, turnEvents.step(stepRunning(name)));
  let outcome: SourcesOutcome;
  try {
    outcome = await run();
  } catch (error) {
    const gone = error instanceof ApplicationFailure && error.type === TURN_FAILURE_TYPES.contextNotFound;
    if (gone || Context.current().info.attempt < SOURCES_STEP_ATTEMPTS) throw error;
    log.warn({ err: errorText(error) }, 'sources step failed; answering without it');
    outcome = { sources: [], status: 'skipped', detail: 'error: the search failed; answered without it' };
  }
  log.debug({ status: outcome.status, detail: outcome.detail }, 'sources step finished');
  await deps.events?.append(turn.turnId, turnEvents.step(sourcesFound(name, outcome)));
  return outcome;
}

function errorText(error: unknown): string {
  return `error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
}

/** `n thing` / `n things`. */
export function counted(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}
