import type { SourcesOutcome } from '#libs/contracts/chat-turn.contract';
import type { ChatActivityContext } from './chat-activity-deps';
import { contextGone } from './load-context.activity';
import { counted, runSourcesStep, type SourcesRequest } from './sources-step';

/** Web results (libs/websearch's WebSearchService): never throws for the provider's problems, reports them. */
export interface WebSearcher {
  search(
    query: string,
  ): Promise<
    | { status: 'ok'; results: { title: string; url: string; snippet: string }[]; cached: boolean }
    | { status: 'skipped'; reason: string; detail: string }
  >;
}

export interface SearchWebDeps extends ChatActivityContext {
  /** Without it a turn that asks for web results reports the step skipped. */
  webSearch?: WebSearcher;
}

export function createSearchWeb(deps: SearchWebDeps) {
  const { db } = deps;
  return {
    /** Web results for the message through SearxNG; a failing search degrades the turn, never fails it. */
    async searchWeb(turn: SourcesRequest): Promise<SourcesOutcome> {
      return runSourcesStep(deps, turn, 'web_search', async () => {
        const webSearch = deps.webSearch;
        if (!webSearch) return { sources: [], status: 'skipped', detail: 'not_configured: SEARXNG_URL is not set' };
        const query = await db.messages.contentOf(turn.userMessageId, turn.conversationId);
        if (query === undefined) throw contextGone(`Message ${turn.userMessageId}`);
        const outcome = await webSearch.search(query);
        if (outcome.status === 'skipped') {
          return { sources: [], status: 'skipped', detail: `${outcome.reason}: ${outcome.detail}` };
        }
        return {
          sources: outcome.results.map((result) => ({
            kind: 'web',
            title: result.title,
            url: result.url,
            text: result.snippet,
          })),
          status: 'completed',
          detail: `${counted(outcome.results.length, 'result')}${outcome.cached ? ', cached' : ''}`,
        };
      });
    },
  };
}
