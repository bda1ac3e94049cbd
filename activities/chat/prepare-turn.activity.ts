import type { ChatTurnInput, PreparedTurn } from '#libs/contracts/chat-turn.contract';
import type { ChatActivityContext, PromptBudget } from './chat-activity-deps';
import { createLoadContext } from './load-context.activity';
import { createRetrieveFromFiles, type RetrieveFromFilesDeps } from './retrieve-from-files.activity';
import { createSearchWeb, type SearchWebDeps } from './search-web.activity';

export type PrepareTurnDeps = ChatActivityContext & PromptBudget & RetrieveFromFilesDeps & SearchWebDeps;

export function createPrepareTurn(deps: PrepareTurnDeps) {
  const steps = { ...createLoadContext(deps), ...createRetrieveFromFiles(deps), ...createSearchWeb(deps) };
  return {
    /**
     * Everything a live turn's model call needs, in one step (turns of `CHAT_TURN_VERSION` 2 on): the branch's history
     * ∥ passages from the sender's files ∥ the web, when the turn asked for it — the same work, events and outcomes as
     * `loadContext`, `retrieveFromFiles` and `searchWeb`, which older turns run as three local activities. One step
     * saves the turn's workflow task an activation and a round trip through the SDK's core before the model is called.
     * Retried as a whole: each part is idempotent, and a source still answers without results on its last attempt
     * rather than fail the turn. Every part has settled before a failure is reported, so no part of one attempt runs
     * on beside the next.
     */
    async prepareTurn(turn: ChatTurnInput): Promise<PreparedTurn> {
      const parts = [
        steps.loadContext(turn),
        steps.retrieveFromFiles(turn),
        turn.webSearch ? steps.searchWeb(turn) : Promise.resolve(undefined),
      ] as const;
      await Promise.allSettled(parts);
      // All settled: this reports the first failure in the order above (the history's before a source's).
      const [context, retrieval, webSearch] = await Promise.all(parts);
      return { context, retrieval, ...(webSearch ? { webSearch } : {}) };
    },
  };
}
