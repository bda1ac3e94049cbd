import type { SecretBox } from '../auth/secret-box';
import type { McpServerEntity } from '../db/entities/mcp-server.entity';
import type { McpServerRepository } from '../db/repositories/mcp-server.repository';
import {
  MCP_OAUTH_CALLBACK_PATH,
  McpOAuthClient,
  McpSignInRequiredError,
  openMcpOAuth,
  sealMcpOAuth,
} from './mcp-oauth';
import type { McpServerConfig } from './mcp-server-config';
import type { RefreshLock } from './refresh-lock';

/** What a user's server's sealed headers are bound to: a sealed value copied to another row does not open there. */
export const mcpHeadersContext = (serverId: string): string => `mcp-server:${serverId}`;

export function sealMcpHeaders(box: SecretBox, serverId: string, headers: Record<string, string>): string | null {
  return Object.keys(headers).length === 0 ? null : box.seal(JSON.stringify(headers), mcpHeadersContext(serverId));
}

export function openMcpHeaders(box: SecretBox, server: Pick<McpServerEntity, 'id' | 'headersSealed'>) {
  if (!server.headersSealed) return {};
  return JSON.parse(box.open(server.headersSealed, mcpHeadersContext(server.id))) as Record<string, string>;
}

/** Where the authorization servers of users' MCP servers send the browser back: the web client's page. */
export const mcpOAuthRedirectUrl = (publicUrl: string): string => `${publicUrl}${MCP_OAUTH_CALLBACK_PATH}`;

/** What connecting to users' OAuth servers needs: their rows (tokens are read and refreshed there) and the redirect. */
export interface UserMcpOAuth {
  servers: Pick<McpServerRepository, 'findOwned' | 'saveOAuth'>;
  redirectUrl: string;
  /** Serializes refreshes of one sign-in across the worker processes (the row's id names it). */
  refreshLock?: RefreshLock;
}

/**
 * A user's server as the MCP client connects to it: streamable HTTP only, public addresses only (a user must not
 * reach the deployment's private network through it), with the user's own credentials: their headers, or the tokens
 * of their OAuth sign-in (read from the row at each use; a server refusing one gets it refreshed, and a refresh that
 * fails asks the owner to sign in again).
 */
export function userMcpServerConfig(box: SecretBox, server: McpServerEntity, oauth: UserMcpOAuth): McpServerConfig {
  const config: McpServerConfig = {
    name: server.name,
    transport: 'http',
    url: server.url,
    headers: openMcpHeaders(box, server),
    requiresApproval: server.requiresApproval,
    publicOnly: true,
  };
  if (!server.oauth) return config;
  /** The sealed record as last read: a save replaces only that, so a sign-in or refresh made meanwhile is kept. */
  let read: string | null = null;
  const authProvider = new McpOAuthClient({
    redirectUrl: oauth.redirectUrl,
    store: {
      load: async () => {
        const row = await oauth.servers.findOwned(server.id, server.userId);
        if (!row) throw new McpSignInRequiredError(server);
        read = row.oauthSealed;
        return openMcpOAuth(box, row);
      },
      save: async (record) => {
        await oauth.servers.saveOAuth(server.id, sealMcpOAuth(box, server.id, record), read);
      },
    },
    ...(oauth.refreshLock ? { refreshLock: () => oauth.refreshLock!.hold(server.id) } : {}),
    signInRequired: () => new McpSignInRequiredError(server),
  });
  return { ...config, oauthAccount: server.id, authProvider };
}

/** True when a user's OAuth server has tokens to connect with (else it is skipped until its owner signs in). */
export function hasMcpSignIn(box: SecretBox, server: McpServerEntity): boolean {
  return !server.oauth || openMcpOAuth(box, server).tokens !== undefined;
}
