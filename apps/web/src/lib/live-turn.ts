import type { Citation, ToolCallRecord, TurnEvent, TurnStep } from '../api/types';

/** A tool call of the turn being followed: asked for, perhaps waiting for approval, then finished. */
export interface LiveToolCall {
  callId: string;
  name: string;
  /** The model's JSON text. */
  arguments: string;
  step: number;
  requiresApproval: boolean;
  /** Why the call cannot run (unknown tool, arguments that fail the schema). */
  invalid?: string;
  /** Set while the call waits for the user: when the wait ends without a decision. */
  approvalExpiresAt?: string;
  /** What this tab decided; the call's result follows. */
  decision?: 'approved' | 'denied';
  result?: ToolCallRecord;
}

/** A turn being followed: what its events have said so far. */
export interface LiveTurn {
  turnId: string;
  conversationId: string;
  /** The last event applied: resume after it (`Last-Event-ID`). */
  lastEventId?: string;
  userMessageId?: string;
  assistantMessageId?: string;
  text: string;
  steps: TurnStep[];
  citations: Citation[];
  /** In the order they were asked for. */
  toolCalls: LiveToolCall[];
  outcome?: 'completed' | 'failed' | 'cancelled';
  error?: { code: string; detail: string };
}

export const startLiveTurn = (turnId: string, conversationId: string): LiveTurn => ({
  turnId,
  conversationId,
  text: '',
  steps: [],
  citations: [],
  toolCalls: [],
});

/** The call `callId` changed by `change`, or added (from `start`) when it is not there yet: events may come in any order. */
function withCall(
  turn: LiveTurn,
  callId: string,
  start: () => LiveToolCall,
  change: (call: LiveToolCall) => LiveToolCall,
): LiveToolCall[] {
  return turn.toolCalls.some((c) => c.callId === callId)
    ? turn.toolCalls.map((c) => (c.callId === callId ? change(c) : c))
    : [...turn.toolCalls, change(start())];
}

/** The turn after one more event (pure: the same events always give the same state). */
export function applyTurnEvent(turn: LiveTurn, event: TurnEvent, id: string | undefined): LiveTurn {
  const next: LiveTurn = { ...turn, ...(id ? { lastEventId: id } : {}) };
  switch (event.event) {
    case 'turn.started':
      return {
        ...next,
        userMessageId: event.data.userMessageId,
        assistantMessageId: event.data.assistantMessageId,
      };
    case 'step': {
      const { name, status, detail } = event.data;
      const step: TurnStep = { name, status, ...(detail !== undefined ? { detail } : {}) };
      const steps = turn.steps.some((s) => s.name === name)
        ? turn.steps.map((s) => (s.name === name ? step : s))
        : [...turn.steps, step];
      // The model call is being retried: the tokens start over, so the partial text is dropped.
      return { ...next, steps, ...(name === 'generation' && status === 'restarted' ? { text: '' } : {}) };
    }
    case 'token':
      return { ...next, text: turn.text + event.data.delta };
    case 'citations':
      return { ...next, citations: event.data.citations };
    case 'tool.call': {
      const { callId, name, arguments: args, step, requiresApproval, invalid } = event.data;
      const call = {
        callId,
        name,
        arguments: args,
        step,
        requiresApproval,
        ...(invalid !== undefined ? { invalid } : {}),
      };
      return {
        ...next,
        toolCalls: withCall(
          turn,
          callId,
          () => call,
          (c) => ({ ...c, ...call }),
        ),
      };
    }
    case 'tool.approval_required': {
      const { callId, name, arguments: args, step, expiresAt } = event.data;
      // A call already decided or finished (a repeated event after a resume) does not ask again.
      const toolCalls = withCall(
        turn,
        callId,
        () => ({ callId, name, arguments: args, step, requiresApproval: true }),
        (c) => (c.result || c.decision ? c : { ...c, approvalExpiresAt: expiresAt }),
      );
      return { ...next, toolCalls };
    }
    case 'tool.result': {
      const record = event.data;
      // At least once: a result already shown is not applied again.
      if (turn.toolCalls.some((c) => c.result?.id === record.id)) return next;
      const toolCalls = withCall(
        turn,
        record.id,
        () => ({
          callId: record.id,
          name: record.name,
          arguments: record.arguments,
          step: record.step,
          requiresApproval: false,
        }),
        ({ approvalExpiresAt: _waited, ...c }) => ({ ...c, result: record }),
      );
      return { ...next, toolCalls };
    }
    case 'message.completed':
      return { ...next, outcome: 'completed', text: event.data.assistantMessage.content };
    case 'turn.failed':
      return { ...next, outcome: 'failed', error: event.data };
    case 'turn.cancelled':
      return { ...next, outcome: 'cancelled', text: event.data.assistantMessage?.content ?? turn.text };
    default:
      return next;
  }
}

/**
 * The turn after this tab answered a call waiting for approval (`decision`), or learned it waits no more (none): the
 * Approve / Deny buttons go away; the call's `tool.result` follows.
 */
export function settleApproval(turn: LiveTurn, callId: string, decision?: 'approved' | 'denied'): LiveTurn {
  return {
    ...turn,
    toolCalls: turn.toolCalls.map((c) => {
      if (c.callId !== callId) return c;
      const { approvalExpiresAt: _waited, ...rest } = c;
      return decision ? { ...rest, decision } : rest;
    }),
  };
}

/**
 * The followed turn of a conversation survives a reload of the tab: its id, the last event id and the state those
 * events built are kept together in sessionStorage, so the stream resumes after that event with nothing lost or
 * repeated.
 */
const key = (conversationId: string) => `gigachat.turn.${conversationId}`;

export function rememberTurn(turn: LiveTurn): void {
  try {
    sessionStorage.setItem(key(turn.conversationId), JSON.stringify(turn));
  } catch {
    // Storage full or unavailable: a reload then replays the stream from its start instead.
  }
}

export function recalledTurn(conversationId: string): LiveTurn | undefined {
  try {
    const saved = sessionStorage.getItem(key(conversationId));
    if (!saved) return undefined;
    const turn = JSON.parse(saved) as LiveTurn;
    if (typeof turn.turnId !== 'string' || typeof turn.text !== 'string') return undefined;
    // Saved by a client from before tools: no calls yet.
    return Array.isArray(turn.toolCalls) ? turn : { ...turn, toolCalls: [] };
  } catch {
    return undefined;
  }
}

export function forgetTurn(conversationId: string): void {
  sessionStorage.removeItem(key(conversationId));
}
