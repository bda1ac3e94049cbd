/**
 * A message as every route, event and update shows it. Types and pure functions only: the workflow bundle may import
 * this file.
 */
import type { Citation, TokenUsage } from './chat-turn.contract';
import type { ToolCallRecord } from './tool-calls';

export interface MessageView {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: 'complete' | 'cancelled' | 'failed';
  model: string | null;
  turnId: string | null;
  citations: Citation[];
  usage: TokenUsage | null;
  /** The tool calls the answer was made with, in order (empty: none). */
  toolCalls: ToolCallRecord[];
  createdAt: string;
}

/** The stored row's fields a view is made of (the `messages` entity satisfies it). */
export interface MessageRow {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: MessageView['role'];
  content: string;
  status: MessageView['status'];
  model: string | null;
  turnId: string | null;
  citations: Citation[] | null;
  usage: TokenUsage | null;
  toolCalls?: ToolCallRecord[] | null;
  createdAt: Date;
}

/** The one way a stored message becomes what clients see. */
export function toMessageView(message: MessageRow): MessageView {
  return {
    id: message.id,
    conversationId: message.conversationId,
    parentId: message.parentId,
    role: message.role,
    content: message.content,
    status: message.status,
    model: message.model,
    turnId: message.turnId,
    citations: message.citations ?? [],
    usage: message.usage,
    toolCalls: message.toolCalls ?? [],
    createdAt: message.createdAt.toISOString(),
  };
}
