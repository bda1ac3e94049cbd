/**
 * The chat turn's contract between the API, the workflow and its activities.
 * Types and constants only: the workflow bundle imports this file, so it must stay free of Node built-ins and I/O.
 */

export const CHAT_TURN_WORKFLOW = 'chatTurn';
/** Update the API waits on: answers once the assistant message is persisted. */
export const TURN_RESULT_UPDATE = 'turnResult';
export const TURN_PROGRESS_QUERY = 'progress';
export const DEFAULT_CHAT_TASK_QUEUE = 'chat';

export type TurnStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StepName = 'context' | 'retrieval' | 'web_search' | 'generation' | 'persistence' | 'audit';
export type StepStatus = 'pending' | 'running' | 'completed' | 'skipped' | 'failed';

export interface TurnStep {
  name: StepName;
  status: StepStatus;
  detail?: string;
}

export interface Citation {
  kind: 'file' | 'web';
  title: string;
  url?: string;
  fileId?: string;
  chunkId?: string;
  snippet: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export function turnWorkflowId(turnId: string): string {
  return `turn:${turnId}`;
}

/** What the API hands the workflow. Everything the turn needs is already persisted under these ids. */
export interface ChatTurnInput {
  turnId: string;
  userId: string;
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
  model?: string;
  requestId: string;
}

export interface ContextMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LoadedContext {
  messages: ContextMessage[];
  /** Messages of the branch that did not fit the token budget. */
  droppedMessages: number;
  promptTokens: number;
  model?: string;
}

export interface GenerationOutput {
  content: string;
  model: string;
  provider: string;
  finishReason: string;
  usage?: TokenUsage;
}

/** Read by the workflow's `progress` query. */
export interface TurnProgress {
  status: TurnStatus;
  steps: TurnStep[];
}

export const SEARCH_ATTRIBUTES = {
  userId: 'UserId',
  conversationId: 'ConversationId',
  turnKind: 'TurnKind',
} as const;

/** Stable `ApplicationFailure` types that the API maps to error codes. */
export const TURN_FAILURE_TYPES = {
  contextNotFound: 'ContextNotFound',
  llmBadRequest: 'llm_bad_request',
  llmAuth: 'llm_auth',
} as const;

/** The assistant message as persisted: what the update returns and the API answers with. */
export interface PersistedAssistantMessage {
  id: string;
  conversationId: string;
  parentId: string;
  role: 'assistant';
  content: string;
  status: 'complete';
  model: string;
  citations: Citation[];
  usage: TokenUsage | null;
  createdAt: string;
}
