/**
 * The events of a turn's live stream: one discriminated union shared by the producer (the chat activities, through
 * `TurnEventSink`) and every consumer (SSE, WebSocket, the database fallback), built only by the constructors below.
 * Types and pure functions only: the workflow bundle may import this file.
 */
import type { Citation, StepName, StepStatus, TurnStep } from './chat-turn.contract';
import type { MessageView } from './message-view';
import type { RequestedToolCall, ToolCallRecord } from './tool-calls';

/** A tool call as its events show it. */
export interface ToolCallEventData {
  callId: string;
  name: string;
  /** The model's JSON text. */
  arguments: string;
  step: number;
}

export interface TurnStartedData {
  turnId: string;
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
}

export type TurnEventPayload =
  | { event: 'turn.started'; data: TurnStartedData }
  | { event: 'step'; data: { name: StepName; status: StepStatus; detail?: string } }
  | { event: 'token'; data: { delta: string } }
  | { event: 'citations'; data: { citations: Citation[] } }
  | { event: 'tool.call'; data: ToolCallEventData & { requiresApproval: boolean; invalid?: string } }
  | { event: 'tool.approval_required'; data: ToolCallEventData & { expiresAt: string } }
  | { event: 'tool.result'; data: ToolCallRecord }
  | { event: 'tool.unavailable'; data: { notes: string[] } }
  | { event: 'message.completed'; data: { assistantMessage: MessageView } }
  | { event: 'turn.failed'; data: { code: string; detail: string } }
  | { event: 'turn.cancelled'; data: { turnId: string; assistantMessage: MessageView | null } };

export type TurnEventName = TurnEventPayload['event'];
export type TerminalTurnEvent = Extract<
  TurnEventPayload,
  { event: 'message.completed' | 'turn.failed' | 'turn.cancelled' }
>;

/** After one of these a turn's stream carries nothing more. */
export const TERMINAL_EVENTS: ReadonlySet<TurnEventName> = new Set([
  'message.completed',
  'turn.failed',
  'turn.cancelled',
]);

export function isTerminalEvent(name: string): name is TerminalTurnEvent['event'] {
  return TERMINAL_EVENTS.has(name as TurnEventName);
}

/** The one place turn events are built. */
export const turnEvents = {
  started: (data: TurnStartedData): TurnEventPayload => ({ event: 'turn.started', data }),
  /** A step's state, as the workflow records it (`TurnStep`), or a bare transition (`running`, `restarted`). */
  step: (step: TurnStep): TurnEventPayload => ({
    event: 'step',
    data: { name: step.name, status: step.status, ...(step.detail !== undefined ? { detail: step.detail } : {}) },
  }),
  token: (delta: string): TurnEventPayload => ({ event: 'token', data: { delta } }),
  citations: (citations: Citation[]): TurnEventPayload => ({ event: 'citations', data: { citations } }),
  toolCall: (call: RequestedToolCall, step: number): TurnEventPayload => ({
    event: 'tool.call',
    data: {
      callId: call.id,
      name: call.name,
      arguments: call.arguments,
      step,
      requiresApproval: call.requiresApproval,
      ...(call.invalid !== undefined ? { invalid: call.invalid } : {}),
    },
  }),
  approvalRequired: (call: RequestedToolCall, step: number, expiresAt: string): TurnEventPayload => ({
    event: 'tool.approval_required',
    data: { callId: call.id, name: call.name, arguments: call.arguments, step, expiresAt },
  }),
  toolResult: (record: ToolCallRecord): TurnEventPayload => ({ event: 'tool.result', data: record }),
  /** Tools the turn asked for that it goes without (an MCP server down, a tool not offered here). */
  toolsUnavailable: (notes: string[]): TurnEventPayload => ({ event: 'tool.unavailable', data: { notes } }),
  completed: (assistantMessage: MessageView): TerminalTurnEvent => ({
    event: 'message.completed',
    data: { assistantMessage },
  }),
  failed: (code: string, detail: string): TerminalTurnEvent => ({ event: 'turn.failed', data: { code, detail } }),
  cancelled: (turnId: string, assistantMessage: MessageView | null): TerminalTurnEvent => ({
    event: 'turn.cancelled',
    data: { turnId, assistantMessage },
  }),
} as const;
