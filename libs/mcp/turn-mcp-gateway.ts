import type { SecretBox } from '../auth/secret-box';
import { MCP_TOOL_NAME, type McpToolRef } from '../contracts/tool-calls';
import type { Database } from '../db/database';
import { ToolError } from '../tools/tool-definition';
import type { McpClientPool } from './mcp-client-pool';
import type { McpCallOutcome, McpGateway } from './mcp-gateway';
import type { McpServerConfig } from './mcp-server-config';
import type { RefreshLock } from './refresh-lock';
import { McpSignInRequiredError } from './mcp-oauth';
import { hasMcpSignIn, userMcpServerConfig } from './user-mcp-servers';

export interface TurnMcpGatewayDeps {
  pool: McpClientPool;
  /** The deployment's servers (`MCP_SERVERS`), offered to everyone. */
  operatorServers: McpServerConfig[];
  db: Pick<Database, 'mcpServers'>;
  /** Opens users' sealed server headers and OAuth sign-ins. */
  box: SecretBox;
  /** The redirect URL registered for users' OAuth servers (needed again to refresh their tokens). */
  oauthRedirectUrl: string;
  /** One worker process at a time refreshes a sign-in's tokens. */
  refreshLock?: RefreshLock;
}

/**
 * MCP for a user's turns: the deployment's servers and the user's own (their credentials opened only here, in the
 * process that connects), listed and called through the shared client pool. A server the user removed, or that is
 * down, is a note or a failed call told to the model, never a failed turn.
 */
export class TurnMcpGateway implements McpGateway {
  constructor(private readonly deps: TurnMcpGatewayDeps) {}

  /**
   * Every server `userId` may use: the deployment's first (a user's server cannot shadow one of them). A user's OAuth
   * server nobody signed in to yet is left out, with a note saying how to sign in.
   */
  async serversOf(
    userId: string,
  ): Promise<{ servers: McpServerConfig[]; skipped: { server: string; note: string }[] }> {
    const skipped: { server: string; note: string }[] = [];
    const oauth = {
      servers: this.deps.db.mcpServers,
      redirectUrl: this.deps.oauthRedirectUrl,
      ...(this.deps.refreshLock ? { refreshLock: this.deps.refreshLock } : {}),
    };
    const own = (await this.deps.db.mcpServers.listOwned(userId))
      .filter((server) => !this.deps.operatorServers.some((each) => each.name === server.name))
      .filter((server) => {
        if (hasMcpSignIn(this.deps.box, server)) return true;
        const note = `MCP server "${server.name}" skipped: ${new McpSignInRequiredError(server).message}`;
        skipped.push({ server: server.name, note });
        return false;
      })
      .map((server) => userMcpServerConfig(this.deps.box, server, oauth));
    return { servers: [...this.deps.operatorServers, ...own], skipped };
  }

  async toolsFor(userId: string, requested: string[]): Promise<{ tools: McpToolRef[]; notes: string[] }> {
    const wanted = requested.flatMap((name) => {
      const match = MCP_TOOL_NAME.exec(name);
      return match ? [{ name, server: match[1]!, all: match[2] === '*' }] : [];
    });
    const available = await this.serversOf(userId);
    const servers = available.servers.filter((server) => wanted.some((each) => each.server === server.name));
    const skipped = available.skipped.filter((one) => wanted.some((each) => each.server === one.server));
    const notes = [
      ...skipped.map((one) => one.note),
      ...wanted
        .filter((each) => !servers.some((server) => server.name === each.server))
        .filter((each) => !skipped.some((one) => one.server === each.server))
        .map((each) => `${each.name}: no MCP server named ${each.server}`),
    ];
    const listed = servers.length > 0 ? await this.deps.pool.listTools(servers) : { tools: [], notes: [] };
    notes.push(...listed.notes);
    const tools = listed.tools.filter((tool) =>
      wanted.some((each) => each.server === tool.server && (each.all || each.name === tool.name)),
    );
    for (const each of wanted) {
      const found = tools.some((tool) => tool.server === each.server && (each.all || tool.name === each.name));
      const serverListed = listed.tools.some((tool) => tool.server === each.server);
      if (!found && serverListed) notes.push(`${each.name}: the server offers no such tool`);
    }
    return { tools, notes };
  }

  /** Every tool of every server the user may use (`GET /tools`). */
  async allTools(userId: string): Promise<{ tools: McpToolRef[]; notes: string[] }> {
    const { servers, skipped } = await this.serversOf(userId);
    const notes = skipped.map((one) => one.note);
    if (servers.length === 0) return { tools: [], notes };
    const listed = await this.deps.pool.listTools(servers);
    return { tools: listed.tools, notes: [...notes, ...listed.notes] };
  }

  checkArguments(tool: McpToolRef, args: unknown): string | null {
    return this.deps.pool.checkArguments(tool, args);
  }

  async call(userId: string, tool: McpToolRef, args: unknown, signal: AbortSignal): Promise<McpCallOutcome> {
    const server = (await this.serversOf(userId)).servers.find((each) => each.name === tool.server);
    if (!server) throw new ToolError(`The MCP server ${tool.server} is no longer available`);
    return this.deps.pool.callTool(server, tool, args, signal);
  }
}
