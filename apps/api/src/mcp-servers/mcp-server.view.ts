import type { McpServerEntity } from '#libs/db/entities/mcp-server.entity';

/** A user's MCP server as they see it: the header names it sends, never their values. */
export interface McpServerView {
  id: string;
  name: string;
  url: string;
  headerNames: string[];
  requiresApproval: boolean;
  createdAt: string;
}

export function toMcpServerView(server: McpServerEntity, headerNames: string[]): McpServerView {
  return {
    id: server.id,
    name: server.name,
    url: server.url,
    headerNames,
    requiresApproval: server.requiresApproval,
    createdAt: server.createdAt.toISOString(),
  };
}
