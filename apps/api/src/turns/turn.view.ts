import type { Citation, TurnStatus, TurnStep } from '#libs/contracts/chat-turn.contract';
import type { TurnEntity } from '#libs/db/entities/turn.entity';
import type { MessageView } from '../conversations/conversation.view';

export interface TurnView {
  id: string;
  conversationId: string;
  status: TurnStatus;
  steps: TurnStep[];
  userMessageId: string;
  assistantMessageId?: string;
  model: string | null;
  error?: { code: string; detail: string };
  workflowId: string;
  createdAt: string;
  completedAt: string | null;
}

export interface TurnAnswer {
  turnId: string;
  userMessage: MessageView;
  assistantMessage: MessageView;
  citations: Citation[];
}

export function toTurnView(turn: TurnEntity, live?: { status: TurnStatus; steps: TurnStep[] }): TurnView {
  const status = turn.status === 'queued' || turn.status === 'running' ? (live?.status ?? turn.status) : turn.status;
  return {
    id: turn.id,
    conversationId: turn.conversationId,
    status,
    steps: live?.steps ?? turn.steps ?? [],
    userMessageId: turn.userMessageId,
    ...(turn.status === 'completed' ? { assistantMessageId: turn.assistantMessageId } : {}),
    model: turn.model,
    ...(turn.errorCode ? { error: { code: turn.errorCode, detail: turn.errorDetail ?? '' } } : {}),
    workflowId: turn.workflowId,
    createdAt: turn.createdAt.toISOString(),
    completedAt: turn.completedAt?.toISOString() ?? null,
  };
}
