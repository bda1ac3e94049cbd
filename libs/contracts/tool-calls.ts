/**
 * Tool calls in a chat turn: what the workflow, the activities, the API and the stored answer share. Types and pure
 * functions only: the workflow bundle imports this file.
 */

/** `<server>__<tool>` names an MCP server's tool in a turn's `tools`; `<server>__*` every tool of that server. */
export const MCP_TOOL_NAME = /^([a-z][a-z0-9_]{0,30}?)__([a-z0-9_]+|\*)$/;

/** An MCP tool call is tried twice at most: once more after a dropped connection, never blindly again. */
export const MCP_TOOL_ATTEMPTS = 2;

/** Workflow update the API sends when the turn's owner approves or denies a tool call. */
export const TOOL_DECISION_UPDATE = 'toolCallDecision';

/** How the workflow runs one tool: decided by the worker's configuration, recorded in the turn's history. */
export interface ToolPolicy {
  name: string;
  /** One attempt. */
  timeoutMs: number;
  maxAttempts: number;
  requiresApproval: boolean;
  /** A pure, quick tool: run as a local activity (no round trip through the server). */
  local?: boolean;
}

/**
 * A tool of an MCP server, as a turn recorded it when it started: the server's schema and description are part of the
 * turn's history, so a server that changes later does not change a running turn.
 */
export interface McpToolRef {
  /** `<server>__<tool>` (sanitized): what the model calls it. */
  name: string;
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  description: string;
  /** The server's JSON schema of the arguments. */
  parameters: Record<string, unknown>;
  requiresApproval: boolean;
  timeoutMs: number;
}

/** The tools a turn may use and the loop's limits (the `prepareTools` step's result). */
export interface TurnToolset {
  tools: ToolPolicy[];
  /** The MCP tools among `tools`, with what the model is shown of them. */
  mcpTools?: McpToolRef[];
  /** Tool rounds before the model must answer in text. */
  maxSteps: number;
  /** Prompt + completion tokens of the turn's model calls after which no more tools are offered. */
  tokenBudget: number;
  approvalTimeoutMs: number;
  /** Requested tools left out, and why (unknown, not enabled here). */
  notes: string[];
}

/** A call the model asked for, checked against the tool's schema by the generate step. */
export interface RequestedToolCall {
  id: string;
  name: string;
  /** The model's JSON text, as it sent it. */
  arguments: string;
  /** Why the call cannot run (unknown tool, arguments that fail the schema): told to the model instead. */
  invalid?: string;
  requiresApproval: boolean;
}

export type ToolCallOutcome = 'completed' | 'failed' | 'invalid' | 'denied' | 'approval_timed_out' | 'cancelled';

/** One tool call as stored with the answer and shown in `tool.result` events. */
export interface ToolCallRecord {
  id: string;
  name: string;
  arguments: string;
  /** The tool round it belongs to (0: the model's first call of the turn). */
  step: number;
  outcome: ToolCallOutcome;
  /** One line: what the tool returned, or why it did not run. */
  summary: string;
  durationMs: number;
}

/** A finished call: its record, and the text handed back to the model. */
export interface ToolCallResult {
  record: ToolCallRecord;
  content: string;
}

/** One round of the loop as the next model call reads it: what the model said and asked, and what came back. */
export interface ToolRound {
  content: string;
  calls: RequestedToolCall[];
  results: ToolCallResult[];
}

/** What the generate step needs to offer tools: their names, the rounds so far, and whether this call must answer. */
export interface ToolLoopState {
  names: string[];
  /** The MCP tools among `names` (built-ins are known to the worker). */
  mcpTools?: McpToolRef[];
  rounds: ToolRound[];
  /** True on the loop's last call (steps or token budget used up): tools are shown but may not be called. */
  final: boolean;
  /** How long a call that needs approval waits (for the `expiresAt` its event shows). */
  approvalTimeoutMs?: number;
}

/** The approve / deny update's argument. */
export interface ToolDecision {
  callId: string;
  approve: boolean;
  /** Who decided: the workflow accepts only the turn's owner. */
  userId: string;
}

/** Failure types of a refused decision, mapped by the API to problem+json responses. */
export const TOOL_DECISION_FAILURES = {
  unknownCall: 'tool_call_not_found',
  notAwaiting: 'tool_call_not_awaiting_approval',
  notOwner: 'tool_call_not_owner',
} as const;

/** Text handed to the model for a call that did not run. */
export function notRunContent(outcome: ToolCallOutcome, detail: string): string {
  switch (outcome) {
    case 'denied':
      return 'The user denied this tool call.';
    case 'approval_timed_out':
      return 'The user did not approve this tool call in time; it was not run.';
    case 'cancelled':
      return 'The tool call was cancelled.';
    default:
      return `Error: ${detail}`;
  }
}
