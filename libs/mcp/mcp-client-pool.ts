import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../logging/logger';
import { ToolError } from '../tools/tool-definition';
import { JsonSchemaChecker } from './json-schema-checker';
import { isConnectionFailure, isSessionExpired, toMcpToolError } from './mcp-errors';
import { McpOAuthClient } from './mcp-oauth';
import { mcpServerKey, type McpServerConfig } from './mcp-server-config';
import { toCallResult, toToolSpecs, type McpCallResult, type McpToolSpec } from './mcp-tools';
import { PublicAddressGuard, type Lookup } from './public-address-guard';

/** What a server's circuit breaker must offer (`RedisCircuitBreaker` does); rejects with `CircuitOpenError`. */
export interface McpCircuitBreaker {
  run<T>(fn: () => Promise<T>, isFailure?: (error: unknown) => boolean): Promise<T>;
}

export interface McpClientPoolOptions {
  logger: Logger;
  /** The breaker guarding one server (e.g. a `RedisCircuitBreaker` named `mcp:<name>`); none: calls go straight. */
  breakerFor?: (server: McpServerConfig) => McpCircuitBreaker | undefined;
  /** Time to start a connection (the MCP handshake). Default 5 000. */
  connectTimeoutMs?: number;
  /** Time to list one server's tools, every page. Default 5 000. */
  listTimeoutMs?: number;
  /**
   * CIDRs a `publicOnly` server may still reach (e.g. `['127.0.0.1/32']` for a test's local server). Operators must
   * not set it except for a vetted allowlist: every address in it becomes reachable by every user's own server.
   */
  allowedPrivateNetworks?: string[];
  /** Name resolution for `publicOnly` servers; `dns.promises.lookup` by default, a fake in tests. */
  lookup?: Lookup;
}

interface Connection {
  client: Client;
}

/** Pages of `tools/list` read at most from one server. */
const MAX_LIST_PAGES = 20;
const CLIENT_INFO = { name: 'gigachat', version: '0.1.0' };

/**
 * The MCP servers' connections of one process, and the one way to list and call their tools. A connection is made on
 * first use, kept per server configuration, and made again after it failed. Servers are protected by their circuit
 * breakers, and `publicOnly` servers (a user's own) by an address check (SSRF) before connecting and on each request.
 * Headers are credentials: nothing here logs a server's configuration.
 */
export class McpClientPool {
  private readonly logger: Logger;
  private readonly breakerFor: (server: McpServerConfig) => McpCircuitBreaker | undefined;
  private readonly connectTimeoutMs: number;
  private readonly listTimeoutMs: number;
  private readonly guard: PublicAddressGuard;
  private readonly schemas = new JsonSchemaChecker();
  private readonly connections = new Map<string, Promise<Connection>>();
  /** Aborted by `close()`, so connections still being made give up at once. */
  private closing = new AbortController();

  constructor(options: McpClientPoolOptions) {
    this.logger = options.logger;
    this.breakerFor = options.breakerFor ?? (() => undefined);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 5_000;
    this.guard = new PublicAddressGuard(options.allowedPrivateNetworks, options.lookup);
  }

  /**
   * Lists every server's tools. A server that is down, slow, refused (SSRF) or whose breaker is open is skipped with
   * a note; so are tools whose input schema does not compile, or whose name clashes. Never throws.
   */
  async listTools(servers: McpServerConfig[]): Promise<{ tools: McpToolSpec[]; notes: string[] }> {
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const unique = servers.filter((server) => {
      if (!seen.has(server.name)) return seen.add(server.name);
      duplicates.push(`MCP server "${server.name}" skipped: another server has the same name`);
      return false;
    });
    const listed = await Promise.all(unique.map((server) => this.listServer(server)));
    return {
      tools: listed.flatMap((one) => one.tools),
      notes: [...duplicates, ...listed.flatMap((one) => one.notes)],
    };
  }

  /** null when `args` fit the spec's schema, else a short message for the model. */
  checkArguments(spec: McpToolSpec, args: unknown): string | null {
    let issues: string[];
    try {
      issues = this.schemas.check(spec.parameters, args);
    } catch {
      return `Invalid arguments for ${spec.name}: its schema cannot be checked`;
    }
    return issues.length === 0 ? null : `Invalid arguments for ${spec.name}: ${issues.join('; ')}`;
  }

  /**
   * Calls the tool through the server's breaker, within `spec.timeoutMs` and until `signal` aborts. The server's
   * `isError` results come back with `isError: true`; transport failures and timeouts throw a retryable `ToolError`,
   * a refused address or a cancelled call a non-retryable one.
   */
  async callTool(
    server: McpServerConfig,
    spec: McpToolSpec,
    args: unknown,
    signal: AbortSignal,
  ): Promise<McpCallResult> {
    if (spec.server !== server.name) throw new ToolError(`${spec.name} is not a tool of MCP server "${server.name}"`);
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      throw new ToolError(`Invalid arguments for ${spec.name}: must be an object`);
    }
    const deadline = AbortSignal.timeout(spec.timeoutMs);
    const callSignal = AbortSignal.any([signal, deadline]);
    const call = () =>
      this.withClient(
        server,
        callSignal,
        (client) =>
          client.callTool({ name: spec.tool, arguments: args as Record<string, unknown> | undefined }, undefined, {
            signal: callSignal,
            timeout: spec.timeoutMs,
          }),
        // A session the server forgot never ran the call: safe to make it again on a new connection.
        isSessionExpired,
      );
    // The caller's own cancellation says nothing about the server's health.
    const isFailure = (error: unknown) => !signal.aborted && toMcpToolError(error, server.name).retryable;
    try {
      return toCallResult(spec, await this.throughBreaker(server, call, isFailure));
    } catch (error) {
      if (signal.aborted) throw new ToolError(`The call to ${spec.name} was cancelled`);
      if (deadline.aborted) throw new ToolError(`Timed out after ${spec.timeoutMs} ms calling ${spec.name}`, true);
      const failure = toMcpToolError(error, server.name);
      this.logger.warn({ mcpServer: server.name, tool: spec.tool, err: failure.message }, 'MCP tool call failed');
      throw failure;
    }
  }

  /** Closes every connection (stdio children included). The pool stays usable: later calls connect again. */
  async close(): Promise<void> {
    const pending = [...this.connections.values()];
    this.connections.clear();
    this.closing.abort(new Error('The MCP client pool was closed'));
    this.closing = new AbortController();
    await Promise.all(
      pending.map((connection) =>
        connection.then(
          (c) => c.client.close(),
          () => undefined,
        ),
      ),
    );
    // Kept-alive sockets of publicOnly servers (new ones open on the next call).
    this.guard.close();
  }

  private async listServer(server: McpServerConfig): Promise<{ tools: McpToolSpec[]; notes: string[] }> {
    const signal = AbortSignal.timeout(this.listTimeoutMs);
    try {
      // Listing has no side effect: any failure of a connection made earlier is worth one more try on a new one.
      const list = () =>
        this.withClient(
          server,
          signal,
          (client) => this.listAll(client, signal),
          () => true,
        );
      const isFailure = (error: unknown) => toMcpToolError(error, server.name).retryable;
      const listed = await this.throughBreaker(server, list, isFailure);
      const { tools, notes } = toToolSpecs(server, listed, this.schemas);
      if (notes.length > 0) this.logger.warn({ mcpServer: server.name, notes }, 'MCP tools skipped');
      return { tools, notes };
    } catch (error) {
      const reason = signal.aborted
        ? `no answer within ${this.listTimeoutMs} ms`
        : toMcpToolError(error, server.name).message;
      this.logger.warn({ mcpServer: server.name, err: reason }, 'MCP server skipped');
      return { tools: [], notes: [`MCP server "${server.name}" skipped: ${reason}`] };
    }
  }

  private async listAll(client: Client, signal: AbortSignal): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
      const result = await client.listTools(cursor === undefined ? undefined : { cursor }, {
        signal,
        timeout: this.listTimeoutMs,
      });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  private throughBreaker<T>(
    server: McpServerConfig,
    fn: () => Promise<T>,
    isFailure: (error: unknown) => boolean,
  ): Promise<T> {
    const breaker = this.breakerFor(server);
    return breaker ? breaker.run(fn, isFailure) : fn();
  }

  /**
   * Runs `use` with the server's client, connecting first if needed. When the connection fails, it is dropped (the
   * next call makes a new one); when it had been made by an earlier call and `retryOnNew` says the failure is safe to
   * retry, `use` runs once more on a new connection.
   */
  private async withClient<T>(
    server: McpServerConfig,
    signal: AbortSignal,
    use: (client: Client) => Promise<T>,
    retryOnNew: (error: unknown) => boolean,
  ): Promise<T> {
    const key = mcpServerKey(server);
    const reused = this.connections.has(key);
    const pending = this.connection(server, key);
    const connection = await untilAborted(pending, signal);
    try {
      return await use(connection.client);
    } catch (error) {
      if (!isConnectionFailure(error) || signal.aborted) throw error;
      this.drop(key, pending);
      if (!reused || !retryOnNew(error)) throw error;
      this.logger.info({ mcpServer: server.name }, 'MCP connection lost; connecting again');
      return this.withClient(server, signal, use, () => false);
    }
  }

  private connection(server: McpServerConfig, key: string): Promise<Connection> {
    const cached = this.connections.get(key);
    if (cached) return cached;
    const pending: Promise<Connection> = this.connect(server, () => this.drop(key, pending));
    this.connections.set(key, pending);
    void pending.catch(() => {
      if (this.connections.get(key) === pending) this.connections.delete(key);
    });
    return pending;
  }

  /** Forgets the connection `pending` made under `key` (at once: the next call connects anew) and closes it. */
  private drop(key: string, pending: Promise<Connection>): void {
    if (this.connections.get(key) === pending) this.connections.delete(key);
    void pending
      .then((connection) => {
        connection.client.onclose = undefined;
        return connection.client.close();
      })
      .catch(() => undefined);
  }

  private async connect(server: McpServerConfig, onClosed: () => void): Promise<Connection> {
    const transport = await this.transportFor(server);
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    try {
      await client.connect(transport, { timeout: this.connectTimeoutMs, signal: this.closing.signal });
    } catch (error) {
      await client.close().catch(() => undefined); // stops a stdio child that started but did not answer
      throw error;
    }
    client.onclose = onClosed; // a stdio child that exits, a transport that gives up
    this.logger.info({ mcpServer: server.name, transport: server.transport }, 'MCP server connected');
    return { client };
  }

  private async transportFor(server: McpServerConfig): Promise<Transport> {
    if (server.transport === 'stdio') {
      if (server.publicOnly) throw new ToolError(`Refused: MCP server "${server.name}" must be reached over http`);
      if (!server.command) throw new ToolError(`MCP server "${server.name}" has no command`);
      const transport = new StdioClientTransport({
        command: server.command,
        args: server.args,
        env: server.env,
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) =>
        this.logger.debug({ mcpServer: server.name, stderr: chunk.toString().slice(0, 500) }, 'MCP server stderr'),
      );
      return transport;
    }
    if (!server.url || !URL.canParse(server.url)) throw new ToolError(`MCP server "${server.name}" has no valid URL`);
    const url = new URL(server.url);
    if (server.publicOnly) await this.guard.check(url);
    const checked = server.publicOnly ? this.guard.fetch : undefined;
    // OAuth: the transport sends its access token, and on a 401 refreshes it (through the same checked fetch, one
    // process at a time when the provider has a refresh lock).
    const fetch =
      server.authProvider instanceof McpOAuthClient
        ? server.authProvider.fetchWithRefreshLock(checked ?? globalThis.fetch)
        : checked;
    return new StreamableHTTPClientTransport(url, {
      requestInit: { headers: server.headers ?? {} },
      ...(server.authProvider ? { authProvider: server.authProvider } : {}),
      ...(fetch ? { fetch } : {}),
    });
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself goes on: a shared connection). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
