import { createHash } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { z } from 'zod';

/** One MCP server whose tools the model may call: configured by the operator (MCP_SERVERS) or a user's own. */
export interface McpServerConfig {
  /** /^[a-z][a-z0-9_]{0,30}$/ — unique; tool names become `<name>__<tool>` */
  name: string;
  transport: 'http' | 'stdio';
  /** http (streamable HTTP): the endpoint, e.g. `https://mcp.example.com/mcp`. */
  url?: string;
  /** http: sent with every request (credentials: never logged). */
  headers?: Record<string, string>;
  /** stdio: the program to start, its arguments and extra environment (added to a minimal inherited one). */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  /** default true: every MCP tool waits for the user's approval unless the operator says otherwise */
  requiresApproval?: boolean;
  /** one tool call; default 30 000 */
  timeoutMs?: number;
  /** a user's own server: only public addresses (SSRF), http only */
  publicOnly?: boolean;
  /**
   * A user's server that signs in with OAuth: the account (the server's row id) whose tokens `authProvider` lends, so
   * two users' connections to one URL are never the same connection.
   */
  oauthAccount?: string;
  authProvider?: OAuthClientProvider;
}

/** Its tools are called `<name>__<tool>`, so a server's name holds no `__` of its own. */
export const MCP_SERVER_NAME = /^[a-z](?:[a-z0-9]|_(?!_)){0,30}$/;
export const DEFAULT_MCP_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 600_000;

const stringMap = z.record(z.string(), z.string());

const serverSchema = z
  .strictObject({
    name: z.string().regex(MCP_SERVER_NAME, `must match ${MCP_SERVER_NAME} (lower-case letters, digits and single _)`),
    transport: z.enum(['http', 'stdio']),
    url: z.string().optional(),
    headers: stringMap.optional(),
    command: z.string().min(1, 'must not be empty').optional(),
    args: z.array(z.string()).optional(),
    env: stringMap.optional(),
    requiresApproval: z.boolean().optional(),
    timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
    publicOnly: z.boolean().optional(),
  })
  .superRefine((server, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    if (server.transport === 'http') {
      if (server.url === undefined) issue('url', 'is required for transport "http"');
      else if (!isHttpUrl(server.url)) issue('url', 'must be an absolute http:// or https:// URL');
      for (const field of ['command', 'args', 'env'] as const) {
        if (server[field] !== undefined) issue(field, 'is for transport "stdio" only');
      }
    } else {
      if (server.command === undefined) issue('command', 'is required for transport "stdio"');
      for (const field of ['url', 'headers'] as const) {
        if (server[field] !== undefined) issue(field, 'is for transport "http" only');
      }
      if (server.publicOnly) issue('publicOnly', 'cannot be set for transport "stdio" (it runs on this machine)');
    }
  });

/**
 * Parses the MCP_SERVERS environment variable: a JSON array of {@link McpServerConfig}. '' (or only spaces) is no
 * servers. Throws one error listing every problem, each naming the entry and the field (values are never quoted: a
 * header may hold a credential).
 */
export function parseMcpServers(json: string, variable = 'MCP_SERVERS'): McpServerConfig[] {
  if (json.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`${variable} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error(`${variable} must be a JSON array of MCP servers`);
  const problems: string[] = [];
  const servers: McpServerConfig[] = [];
  const names = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const where = `${variable}[${index}]`;
    const result = validateMcpServer(entry, where);
    if (!result.ok) {
      problems.push(...result.problems);
      return;
    }
    if (names.has(result.server.name)) problems.push(`${where}.name: "${result.server.name}" is used twice`);
    names.add(result.server.name);
    servers.push(result.server);
  });
  if (problems.length > 0) throw new Error(`Invalid ${variable}: ${problems.join('; ')}`);
  return servers;
}

/** Checks one server's settings (a user's own server too); each problem names `where`, the server and the field. */
export function validateMcpServer(
  entry: unknown,
  where = 'MCP server',
): { ok: true; server: McpServerConfig } | { ok: false; problems: string[] } {
  const result = serverSchema.safeParse(entry);
  if (result.success) return { ok: true, server: result.data };
  const name = (entry as { name?: unknown } | null)?.name;
  const label = typeof name === 'string' && MCP_SERVER_NAME.test(name) ? `${where} ("${name}")` : where;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
    return `${label}${path}: ${issue.message}`;
  });
  return { ok: false, problems };
}

/**
 * A stable key of a server's whole configuration (key order does not matter), for caching its connection: a changed
 * URL, header or command is another connection. A digest, so the map keys do not hold the credentials themselves.
 */
export function mcpServerKey(server: McpServerConfig): string {
  const { authProvider: _provider, ...config } = server; // an object with methods; `oauthAccount` stands for it
  return createHash('sha256').update(stableJson(config)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:';
}
