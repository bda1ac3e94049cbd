import { z } from 'zod';
import type { ToolDefinition } from './tool-definition';

/** What OpenAI's chat completions API takes in `tools`. */
export interface OpenAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** How the turn workflow schedules calls to one tool (the workflow's contract holds the type). */
export type { ToolPolicy } from '../contracts/tool-calls';
import type { ToolPolicy } from '../contracts/tool-calls';

export type ParsedArguments = { ok: true; args: unknown } | { ok: false; error: string };

export interface ToolRegistryOptions {
  /** Tools that must be approved by the user before each call, whatever their definition says (operator setting). */
  requireApproval?: string[];
}

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Errors go back to the model as a tool result; a few issues are enough for it to correct itself. */
const MAX_ISSUES = 5;

/**
 * The tools one deployment offers. Built once at start-up from definitions; refuses a bad or duplicate name then
 * rather than when the model first calls it. The JSON schemas are derived once, here, so a schema zod cannot
 * express in JSON also fails at start-up.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly schemas = new Map<string, Record<string, unknown>>();
  private readonly forcedApproval: ReadonlySet<string>;

  constructor(definitions: ToolDefinition[], options: ToolRegistryOptions = {}) {
    for (const tool of definitions) {
      if (!TOOL_NAME.test(tool.name)) throw new Error(`Invalid tool name "${tool.name}": must match ${TOOL_NAME}`);
      if (this.tools.has(tool.name)) throw new Error(`Duplicate tool name "${tool.name}"`);
      if (!(tool.timeoutMs > 0) || !Number.isInteger(tool.maxAttempts) || tool.maxAttempts < 1) {
        throw new Error(`Tool "${tool.name}" needs a positive timeoutMs and an integer maxAttempts ≥ 1`);
      }
      this.tools.set(tool.name, tool);
      this.schemas.set(tool.name, toParametersSchema(tool));
    }
    const unknown = (options.requireApproval ?? []).filter((name) => !this.tools.has(name));
    if (unknown.length > 0) throw new Error(`requireApproval names unknown tools: ${unknown.join(', ')}`);
    this.forcedApproval = new Set(options.requireApproval);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  /** The `tools` array for a chat completion request offering the given tools (unknown names are skipped). */
  openAiTools(names: string[]): OpenAiTool[] {
    return this.known(names).map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: this.schemas.get(tool.name) ?? {} },
    }));
  }

  /**
   * Parses and validates the arguments the model sent. The error is written for the model, which gets it back as
   * the tool's result and usually corrects the call.
   */
  parseArguments(name: string, rawJson: string): ParsedArguments {
    const tool = this.tools.get(name);
    if (!tool) return { ok: false, error: `Unknown tool: ${name}` };
    let value: unknown;
    try {
      // Some models send "" for a tool without parameters.
      value = rawJson.trim() === '' ? {} : JSON.parse(rawJson);
    } catch {
      return { ok: false, error: `Invalid arguments for ${name}: not valid JSON` };
    }
    const result = tool.parameters.safeParse(value);
    if (result.success) return { ok: true, args: result.data };
    return { ok: false, error: `Invalid arguments for ${name}: ${describeIssues(result.error.issues)}` };
  }

  /** The scheduling policy of each known tool among `names`, with the operator's approval setting applied. */
  policies(names: string[]): ToolPolicy[] {
    return this.known(names).map((tool) => ({
      name: tool.name,
      timeoutMs: tool.timeoutMs,
      maxAttempts: tool.maxAttempts,
      requiresApproval: tool.requiresApproval || this.forcedApproval.has(tool.name),
      ...(tool.local ? { local: true } : {}),
    }));
  }

  private known(names: string[]): ToolDefinition[] {
    return [...new Set(names)].flatMap((name) => this.tools.get(name) ?? []);
  }
}

/** The JSON schema of a tool's parameters, as the model sees it: what it may send (zod's input side). */
function toParametersSchema(tool: ToolDefinition): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(tool.parameters, { io: 'input' }) as Record<string, unknown>;
  if (schema['type'] !== 'object') throw new Error(`Tool "${tool.name}" parameters must be an object schema`);
  return schema;
}

/** `expression: expected string; precision: too big` — zod's messages without their generic prefix. */
function describeIssues(issues: z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES).map((issue) => {
    const message = issue.message.replace(/^Invalid input: /, '');
    return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${message}` : message;
  });
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  return parts.join('; ');
}
