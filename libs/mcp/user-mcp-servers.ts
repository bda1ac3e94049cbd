import type { SecretBox } from '../auth/secret-box';
import type { McpServerEntity } from '../db/entities/mcp-server.entity';
import type { McpServerConfig } from './mcp-server-config';

/** What a user's server's sealed headers are bound to: a sealed value copied to another row does not open there. */
export const mcpHeadersContext = (serverId: string): string => `mcp-server:${serverId}`;

export function sealMcpHeaders(box: SecretBox, serverId: string, headers: Record<string, string>): string | null {
  return Object.keys(headers).length === 0 ? null : box.seal(JSON.stringify(headers), mcpHeadersContext(serverId));
}

export function openMcpHeaders(box: SecretBox, server: Pick<McpServerEntity, 'id' | 'headersSealed'>) {
  if (!server.headersSealed) return {};
  return JSON.parse(box.open(server.headersSealed, mcpHeadersContext(server.id))) as Record<string, string>;
}

/**
 * A user's server as the MCP client connects to it: streamable HTTP only, public addresses only (a user must not
 * reach the deployment's private network through it), with the user's own credentials.
 */
export function userMcpServerConfig(box: SecretBox, server: McpServerEntity): McpServerConfig {
  return {
    name: server.name,
    transport: 'http',
    url: server.url,
    headers: openMcpHeaders(box, server),
    requiresApproval: server.requiresApproval,
    publicOnly: true,
  };
}
