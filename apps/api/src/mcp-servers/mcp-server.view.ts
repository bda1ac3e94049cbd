import type { McpServerEntity } from '#libs/db/entities/mcp-server.entity';
import type { McpOAuthRecord } from '#libs/mcp/mcp-oauth';

/** A user's MCP server as they see it: the header names it sends, never their values, nor any token. */
export interface McpServerView {
  id: string;
  name: string;
  url: string;
  headerNames: string[];
  /** Null for a server that sends headers; else whether a sign-in gave it tokens, when, and for what scope. */
  oauth: { signedIn: boolean; signedInAt: string | null; scope: string | null } | null;
  requiresApproval: boolean;
  createdAt: string;
}

export function toMcpServerView(
  server: McpServerEntity,
  headerNames: string[],
  oauth: McpOAuthRecord = {},
): McpServerView {
  return {
    id: server.id,
    name: server.name,
    url: server.url,
    headerNames,
    oauth: server.oauth
      ? {
          signedIn: oauth.tokens !== undefined,
          signedInAt: oauth.authorizedAt ?? null,
          scope: oauth.tokens?.scope ?? null,
        }
      : null,
    requiresApproval: server.requiresApproval,
    createdAt: server.createdAt.toISOString(),
  };
}
