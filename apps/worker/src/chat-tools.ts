import type { FileRetriever, WebSearcher } from '#activities/chat.activities';
import type { ToolSettings } from '#activities/chat/tools.activity';
import type { AppConfig } from '#libs/config/app-config';
import { deploymentTools, type ToolServices } from '#libs/tools/deployment-tools';
import { ToolError } from '#libs/tools/tool-definition';
import type { ToolRegistry } from '#libs/tools/tool-registry';

/**
 * The tools chat turns may call, run on the services the turn's own sources use: `web_search` on SearxNG (through the
 * same cache and breaker), `search_my_files` on the retriever, over the turn owner's files only.
 */
export function createChatTools(
  config: AppConfig,
  sources: { retriever: FileRetriever; webSearch: WebSearcher },
): { tools: ToolRegistry; toolSettings: ToolSettings } {
  const services: ToolServices = {
    async webSearch(query) {
      const found = await sources.webSearch.search(query);
      // The breaker is open or SearxNG failed: worth another attempt later in the turn, not a failed turn.
      if (found.status !== 'ok') throw new ToolError(`Web search unavailable: ${found.detail}`, true);
      return found.results.map((result) => ({ title: result.title, url: result.url, text: result.snippet }));
    },
    async searchFiles(query, ctx) {
      const found = await sources.retriever.search(ctx.userId, query, {
        ...(ctx.fileIds?.length ? { fileIds: ctx.fileIds } : {}),
        topK: config.retrieval.topK,
      });
      return found.chunks.map((chunk) => ({
        title: chunk.heading ? `${chunk.fileName} — ${chunk.heading}` : chunk.fileName,
        text: chunk.content,
      }));
    },
  };
  return {
    tools: deploymentTools(config, services),
    toolSettings: {
      enabled: config.tools.enabled,
      maxSteps: config.tools.maxSteps,
      tokenBudget: config.tools.tokenBudget,
      approvalTimeoutMs: config.tools.approvalTimeoutMs,
    },
  };
}
