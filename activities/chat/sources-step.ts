import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChatTurnInput, SourcesOutcome } from '#libs/contracts/chat-turn.contract';
import { SOURCES_STEP_ATTEMPTS, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import type { ReplaySourcesRequest } from '#libs/contracts/replay.contract';
import { turnEvents } from '#libs/contracts/turn-events';
import { sourcesFound, stepRunning } from '#libs/contracts/turn-steps';
import { type ChatActivityContext, isReplayStep, stepLogger } from './chat-activity-deps';

/**
 * What a sources step searches with: the user message's text as the query, in its sender's files. A live turn passes
 * its `ChatTurnInput`; a replayed turn a `ReplaySourcesRequest` (no live events).
 */
export type SourcesRequest = ChatTurnInput | ReplaySourcesRequest;

/**
 * Runs a sources step (retrieval, web search) with its live `step` events around it (a live turn's). Sources degrade a
 * turn, never fail it: an error is retried like any step's, and on the last attempt the turn goes on without these
 * sources.
 */
export async function runSourcesStep(
  deps: Pick<ChatActivityContext, 'events' | 'logger'>,
  request: SourcesRequest,
  name: 'retrieval' | 'web_search',
  run: () => Promise<SourcesOutcome>,
): Promise<SourcesOutcome> {
  const log = stepLogger(deps.logger, request, name);
  const turnId = isReplayStep(request) ? undefined : request.turnId;
  if (turnId) await deps.events?.append(turnId, turnEvents.step(stepRunning(name)));
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
  if (turnId) await deps.events?.append(turnId, turnEvents.step(sourcesFound(name, outcome)));
  return outcome;
}

function errorText(error: unknown): string {
  return `error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
}

/** `n thing` / `n things`. */
export function counted(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}
