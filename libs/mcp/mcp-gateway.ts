import type { McpToolRef } from '../contracts/tool-calls';

/** What an MCP tool call answered: its text for the model, and whether the server reported an error. */
export interface McpCallOutcome {
  content: string;
  summary: string;
  isError: boolean;
}

/**
 * The chat activities' port to MCP servers: the deployment's and the turn owner's own. The worker builds it on the MCP
 * client pool; a server that is down is skipped with a note, never a failed turn.
 */
export interface McpGateway {
  /** The tools `requested` (`<server>__<tool>` or `<server>__*`) that the servers offer now, and notes on the rest. */
  toolsFor(userId: string, requested: string[]): Promise<{ tools: McpToolRef[]; notes: string[] }>;
  /** Null when the arguments fit the tool's schema, else a message for the model. */
  checkArguments(tool: McpToolRef, args: unknown): string | null;
  call(userId: string, tool: McpToolRef, args: unknown, signal: AbortSignal): Promise<McpCallOutcome>;
}
