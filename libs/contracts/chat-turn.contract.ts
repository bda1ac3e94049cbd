/**
 * The chat turn's contract between the API, the workflow and its activities.
 * Types and constants only: the workflow bundle imports this file, so it must stay free of Node built-ins and I/O.
 */
import type { RequestedToolCall, ToolCallRecord } from './tool-calls';
import type { MessageView } from './message-view';

export const CHAT_TURN_WORKFLOW = 'chatTurn';
/** Update the API waits on: answers once the assistant message is persisted. */
export const TURN_RESULT_UPDATE = 'turnResult';
export const TURN_PROGRESS_QUERY = 'progress';
export const DEFAULT_CHAT_TASK_QUEUE = 'chat';

export type TurnStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StepName = 'context' | 'retrieval' | 'web_search' | 'generation' | 'persistence';
/** `restarted` is only ever an event (the generation is retried: drop its partial text); a stored step never has it. */
export type StepStatus = 'pending' | 'running' | 'completed' | 'skipped' | 'failed' | 'restarted';

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
  /** Ask SearxNG too (skipped, and reported so, when no SearxNG is configured). */
  webSearch?: boolean;
  /** Restrict retrieval to these files of the user; absent = all of the user's ready files. */
  fileIds?: string[];
  /** Tools the model may call in this turn (absent or empty: none). */
  tools?: string[];
  /**
   * The workflow's version the turn was started for (`CHAT_TURN_VERSION`). Absent in turns started before versions:
   * they replay by the patch markers their histories recorded.
   */
  version?: number;
}

/**
 * The `chatTurn` version new turns are started with. Version 1 runs every change made under a patch before it
 * (`retrieval-and-web-search`, `local-generation`, `tool-loop`, `local-tools`) without recording a marker: a patch costs
 * each turn a marker and a search-attribute upsert in its history, and Temporal a visibility write. A change that
 * must not reach running turns raises the version (and keeps the old branch for turns started before it). Version 2
 * runs the steps before the model call (history ∥ retrieval ∥ web search) as one local activity, `prepareTurn`.
 * Version 3 runs a turn without tools as one local activity, `answerTurn` (prepare, the model call, persist); a turn
 * with tools runs version 2's steps. Deploy workers before the API that starts a new version: a worker that does not know it runs the old branch.
 */
export const CHAT_TURN_VERSION = 3;

/**
 * A passage offered to the model: a chunk of one of the user's files or a web result. Numbered in the prompt in
 * the order given; the assistant message's citations are the sources that fit, in the same order, so `[n]` in an
 * answer is `citations[n - 1]`.
 */
export interface ContextSource {
  kind: 'file' | 'web';
  title: string;
  url?: string;
  fileId?: string;
  chunkId?: string;
  text: string;
}

/**
 * Attempts of a sources step (retrieval, web search): the workflow's retry policy allows this many, and the activity
 * answers without its sources on the last one instead of failing the turn.
 */
export const SOURCES_STEP_ATTEMPTS = 3;

/** What the retrieval and web search steps found, and how each went (for the turn's steps). */
export interface SourcesOutcome {
  sources: ContextSource[];
  status: 'completed' | 'skipped';
  detail: string;
}

/** What `prepareTurn` hands the model call: the history, and what retrieval and web search (when asked) found. */
export interface PreparedTurn {
  context: LoadedContext;
  retrieval: SourcesOutcome;
  /** Present when the turn asked for web search. */
  webSearch?: SourcesOutcome;
}

/** What `answerTurn` gives back: the persisted answer, and the turn's steps as stored with it. */
export interface AnsweredTurn {
  message: PersistedAssistantMessage;
  steps: TurnStep[];
}

/**
 * Where `answerTurn` stopped, carried as the last detail of the failure it throws (the workflow records the turn failed
 * or cancelled at that step, with the steps before it as they went).
 */
export interface StoppedAtStep {
  stoppedAt: StepName;
  steps: TurnStep[];
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
  /** The sources numbered in the prompt, as the answer may cite them. */
  citations?: Citation[];
  /** From the call to the model to its last token, and to its first (replays compare them). */
  latencyMs?: number;
  firstTokenMs?: number;
  /** The tools the model asked to call (checked against their schemas); absent when it answered in text. */
  toolCalls?: RequestedToolCall[];
}

/** Stable failure type of a turn cancelled by its user (`POST /turns/:id/cancel`). */
export const TURN_CANCELLED = 'cancelled';
/**
 * The failure type of a model call stopped by a cancel hint (see `libs/events/turn-cancel-hints.ts`) before the cancel
 * request reached the workflow: its details carry the `PartialAnswer`, and the workflow then waits for the request.
 */
export const TURN_CANCEL_HINTED = 'turn_cancel_hinted';

/**
 * What the model had written when its user cancelled: carried by the generate activity's `CancelledFailure` (its
 * details) to the workflow, which hands it to `finishCancelledTurn` to keep.
 */
export interface PartialAnswer {
  content: string;
  model: string;
  citations: Citation[];
  /** The tool calls made before the cancel (a turn with tools). */
  toolCalls?: ToolCallRecord[];
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
  replayId: 'ReplayId',
} as const;

/** Stable `ApplicationFailure` types that the API maps to error codes. */
export const TURN_FAILURE_TYPES = {
  contextNotFound: 'ContextNotFound',
  llmBadRequest: 'llm_bad_request',
  llmAuth: 'llm_auth',
  /** The generation was cut off by its worker shutting down or its attempt timing out (retried). */
  generationInterrupted: 'generation_interrupted',
} as const;

/**
 * The assistant message as persisted: what the update returns and the API answers with (runs recorded before it
 * carried `turnId` return it without).
 */
export type PersistedAssistantMessage = MessageView;
