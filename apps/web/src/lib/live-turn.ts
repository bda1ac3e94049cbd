import type { Citation, TurnEvent, TurnStep } from '../api/types';

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
  outcome?: 'completed' | 'failed' | 'cancelled';
  error?: { code: string; detail: string };
}

export const startLiveTurn = (turnId: string, conversationId: string): LiveTurn => ({
  turnId,
  conversationId,
  text: '',
  steps: [],
  citations: [],
});

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
    return typeof turn.turnId === 'string' && typeof turn.text === 'string' ? turn : undefined;
  } catch {
    return undefined;
  }
}

export function forgetTurn(conversationId: string): void {
  sessionStorage.removeItem(key(conversationId));
}
