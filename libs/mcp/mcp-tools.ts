import type { McpToolRef } from '../contracts/tool-calls';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { oneLine } from '../tools/tool-definition';
import { JsonSchemaChecker } from './json-schema-checker';
import { DEFAULT_MCP_TIMEOUT_MS, type McpServerConfig } from './mcp-server-config';

/**
 * One tool of an MCP server, as the turn offers it to the model: the workflow contract's type (plain data that travels
 * through workflow history). `name` is namespaced and sanitized (see {@link mcpToolName}).
 */
export type McpToolSpec = McpToolRef;

export interface McpCallResult {
  /** Text for the model, capped at {@link MAX_CONTENT_CHARS} characters (plus a note when cut). */
  content: string;
  /** One line, ≤ 200 characters. */
  summary: string;
  /** The server answered that the call failed (MCP `isError`): the model sees why, nothing is retried. */
  isError: boolean;
}

export const MCP_TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const MAX_CONTENT_CHARS = 20_000;
const MAX_DESCRIPTION_CHARS = 2_000;

/**
 * The name the model sees for `tool` of `server`: MCP names may hold upper case, '-', '.' and more, which our tool
 * names do not; they are lower-cased, every other character becomes '_', and the whole is cut at 64 characters.
 * Server names start with a letter, so the result always matches {@link MCP_TOOL_NAME}. Two tools of one server may
 * end up with one name; {@link toToolSpecs} keeps the first.
 */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 64);
}

/** Turns a server's listed tools into specs; a tool whose name clashes or whose schema does not compile gets a note. */
export function toToolSpecs(
  server: McpServerConfig,
  tools: readonly Tool[],
  schemas: JsonSchemaChecker,
): { tools: McpToolSpec[]; notes: string[] } {
  const specs = new Map<string, McpToolSpec>();
  const notes: string[] = [];
  for (const tool of tools) {
    const name = mcpToolName(server.name, tool.name);
    const skip = (why: string) => notes.push(`MCP tool "${tool.name}" of "${server.name}" skipped: ${why}`);
    const taken = specs.get(name);
    if (taken) {
      skip(`its name becomes ${name}, like "${taken.tool}"`);
      continue;
    }
    const parameters = tool.inputSchema as Record<string, unknown>;
    if (parameters.type !== 'object') {
      skip('its input schema is not of type "object"');
      continue;
    }
    try {
      schemas.compile(parameters);
    } catch (error) {
      skip(`its input schema does not compile (${(error as Error).message})`);
      continue;
    }
    specs.set(name, {
      name,
      server: server.name,
      tool: tool.name,
      description: (tool.description ?? tool.title ?? '').trim().slice(0, MAX_DESCRIPTION_CHARS),
      parameters,
      requiresApproval: server.requiresApproval ?? true,
      timeoutMs: server.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS,
    });
  }
  return { tools: [...specs.values()], notes };
}

/** What `Client.callTool` resolves with: a result, or the pre-2024-11 `toolResult` form. */
export type RawCallResult = CallToolResult | { toolResult: unknown };

/** The model's view of a tool result: text parts joined, other parts named (`[image image/png]`, `[resource uri]`). */
export function toCallResult(spec: McpToolSpec, raw: RawCallResult): McpCallResult {
  let text: string;
  let isError = false;
  if ('content' in raw && Array.isArray(raw.content)) {
    isError = raw.isError === true;
    text = raw.content.map(describePart).join('\n');
    if (text.trim() === '' && raw.structuredContent !== undefined) text = JSON.stringify(raw.structuredContent);
  } else {
    text = 'toolResult' in raw ? JSON.stringify(raw.toolResult) : '';
  }
  const content =
    text.length > MAX_CONTENT_CHARS
      ? `${text.slice(0, MAX_CONTENT_CHARS)}\n(Result cut at ${MAX_CONTENT_CHARS} of ${text.length} characters.)`
      : text;
  const summary = isError
    ? oneLine(`${spec.name} failed: ${text || 'no details'}`)
    : oneLine(`${spec.name}: ${text || 'no output'}`);
  return { content, summary, isError };
}

function describePart(part: CallToolResult['content'][number]): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
    case 'audio':
      return `[${part.type} ${part.mimeType}]`;
    case 'resource': {
      const text = 'text' in part.resource ? `\n${part.resource.text}` : '';
      return `[resource ${part.resource.uri}]${text}`;
    }
    case 'resource_link':
      return `[resource ${part.uri}]`;
    default:
      return `[${(part as { type: string }).type}]`;
  }
}
