/**
 * The batch replay contract between the API, the `replayConversations` / `replayConversation` workflows and their
 * activities. Types and constants only: the workflow bundle imports this file, so it must stay free of Node built-ins
 * and I/O. Inputs carry ids and settings, never message text: the activities read the text from MySQL.
 */
import type { Citation, TokenUsage } from './chat-turn.contract';

export const REPLAY_CONVERSATIONS_WORKFLOW = 'replayConversations';
export const REPLAY_CONVERSATION_WORKFLOW = 'replayConversation';
export const DEFAULT_REPLAY_TASK_QUEUE = 'replay';
/** Query of both workflows: the batch's progress (parent) or one conversation's (child). */
export const REPLAY_PROGRESS_QUERY = 'replayProgress';
/** Update of the parent: pause, resume or cancel; answers with the progress after the change. */
export const REPLAY_CONTROL_UPDATE = 'replayControl';
/** Signal from the parent to its running children: stop (or go on) at the next turn. */
export const REPLAY_PAUSE_SIGNAL = 'replayPause';

export function replayWorkflowId(replayId: string): string {
  return `replay:${replayId}`;
}

export function replayConversationWorkflowId(replayId: string, conversationId: string): string {
  return `replay:${replayId}:${conversationId}`;
}

/**
 * `pinned`: each user turn gets the original history before it (a regression test of one answer). `trajectory`: each
 * arm builds its own history from its own earlier answers (a new conversation with the same user messages).
 */
export type ReplayMode = 'pinned' | 'trajectory';
export const REPLAY_MODES: readonly ReplayMode[] = ['pinned', 'trajectory'];

export type ReplayStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export type ReplayConversationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type ReplayControlAction = 'pause' | 'resume' | 'cancel';

/** One setup the conversations are replayed against. */
export interface ReplayArm {
  /** Position among the replay's arms (0-based): results and the summary name arms by it. */
  index: number;
  /** Shown in reports; defaults to the model. */
  label: string;
  model: string;
  /** The provider tried first for the model: rate and concurrency limits are per provider. */
  provider: string;
  /** Absent: each conversation's own system prompt; null: none; a string: this one instead. */
  systemPrompt?: string | null;
  /** Passages from the sender's files, as the original turn asked for them. */
  retrieval: boolean;
  /** Web results for each user message. */
  webSearch: boolean;
}

/** The pairwise judge: a model that compares two answers to the same user message and says which is better. */
export interface ReplayJudge {
  model: string;
  provider: string;
  /** Each arm against the original answer, or each arm after the first against the first arm. */
  against: 'original' | 'first-arm';
  rubric: string;
}

export interface ProviderLimit {
  /** Calls in flight to this provider at once (the replay's children call one provider at a time each). */
  concurrency?: number;
  /** Calls started per second, across the whole replay. */
  requestsPerSecond?: number;
}

export interface ReplayLimits {
  /** Conversations replayed at once (child workflows). */
  concurrency: number;
  /** Conversations one run of the parent starts before it continues as new (keeps its history small). */
  conversationsPerRun: number;
  /** Only the first n user turns of each conversation. */
  maxTurnsPerConversation?: number;
  /** Per provider name. */
  providers: Record<string, ProviderLimit>;
}

export interface ReplayCounts {
  conversations: { done: number; failed: number; cancelled: number };
  /** Replayed answers (one per user turn and arm) of the conversations that ended. */
  turns: { done: number; failed: number };
  tokens: { prompt: number; completion: number };
}

/** What one run hands the next across continue-as-new. */
export interface ReplayCarried {
  /** Conversations up to this sequence number were replayed by earlier runs. */
  afterSeq: number;
  counts: ReplayCounts;
  /** Workflow time the first run started at (ms since the epoch). */
  startedAtMs: number;
  /** Time spent paused so far, left out of the rate behind the ETA. */
  pausedMs: number;
  paused: boolean;
  /** Runs before this one. */
  runs: number;
}

export interface ReplayBatchInput {
  replayId: string;
  createdBy: string;
  requestId: string;
  mode: ReplayMode;
  arms: ReplayArm[];
  judge?: ReplayJudge;
  /** Seeds the judge's answer order, so a replay's verdicts can be reproduced. */
  seed: number;
  limits: ReplayLimits;
  totalConversations: number;
  carried?: ReplayCarried;
}

/** Read by the `replayProgress` query and stored with the replay when it ends. */
export interface ReplayProgress {
  status: ReplayStatus;
  conversations: { total: number; done: number; failed: number; cancelled: number; running: number; pending: number };
  turns: { done: number; failed: number };
  tokens: { prompt: number; completion: number };
  startedAt: string | null;
  /** Seconds until every conversation is replayed, at the rate so far; null before the first one finishes. */
  etaSeconds: number | null;
  /** Runs of the parent so far (continue-as-new). */
  runs: number;
}

export interface ReplayConversationInput {
  replayId: string;
  conversationId: string;
  seq: number;
  requestId: string;
  mode: ReplayMode;
  arms: ReplayArm[];
  judge?: ReplayJudge;
  seed: number;
  maxTurns?: number;
  /** Least time between two calls of this child to a provider: its share of the provider's requests per second. */
  pacingMs: Record<string, number>;
}

export interface ReplayConversationOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  /** User turns replayed (each against every arm). */
  turns: number;
  /** Answers stored: one per user turn and arm, complete or failed. */
  answers: number;
  failedAnswers: number;
  promptTokens: number;
  completionTokens: number;
  error?: { code: string; detail: string };
}

/** One user turn of a conversation's current branch, as a child replays it. */
export interface ReplayTurnRef {
  /** Position among the branch's user messages (0-based). */
  index: number;
  userMessageId: string;
  /** The assistant message that answered it on the branch, if any. */
  originalMessageId: string | null;
  /** Who sent it: retrieval reads this user's files. */
  senderId: string;
  /** The files the original turn was restricted to. */
  fileIds?: string[];
}

/** Names the replayed step in logs and in the rows it writes; a step with it emits no live turn events. */
export interface ReplayStepRef {
  replayId: string;
  conversationId: string;
  turnIndex: number;
  armIndex: number;
}

/** `loadContext` for a replayed turn: which history, which model and system prompt. */
export interface ReplayContextRequest {
  replay: ReplayStepRef;
  userMessageId: string;
  history: ReplayMode;
  model: string;
  /** Absent: the conversation's own; null: none; a string: this one instead. */
  systemPrompt?: string | null;
}

/** `retrieveFromFiles` / `searchWeb` for a replayed turn: the message is the query, in its sender's files. */
export interface ReplaySourcesRequest {
  replay: ReplayStepRef;
  userId: string;
  conversationId: string;
  userMessageId: string;
  fileIds?: string[];
}

/** What a replayed answer is judged and bucketed by, computed when it is stored. */
export interface ReplayAnswerMetrics {
  latencyMs: number | null;
  firstTokenMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  length: number;
  citations: number;
  /** Jaccard overlap of its citations with the compared answer's; null when neither cites anything. */
  citationOverlap: number | null;
  refusal: boolean;
  failed: boolean;
}

export type ReplayBucket = 'improved' | 'regressed' | 'unchanged';
export const REPLAY_BUCKETS: readonly ReplayBucket[] = ['improved', 'regressed', 'unchanged'];

/** A judge's verdict, from the arm's side: `win` means the arm's answer is better than what it was compared with. */
export interface ReplayVerdict {
  outcome: 'win' | 'tie' | 'loss';
  reason: string;
  /** Which answer the judge saw first (randomised by the replay's seed). */
  order: 'arm-first' | 'baseline-first';
  judgeModel: string;
  /** What the arm was compared with. */
  against: 'original' | 'first-arm';
}

/** A generated answer, or why there is none, as `storeReplayResult` keeps it. */
export type ReplayAnswer =
  | {
      status: 'complete';
      content: string;
      model: string;
      provider: string;
      citations: Citation[];
      usage?: TokenUsage;
      latencyMs?: number;
      firstTokenMs?: number;
    }
  | { status: 'failed'; code: string; detail: string };

/** Stable failure types of a replayed conversation. */
export const REPLAY_FAILURE_TYPES = {
  conversationGone: 'conversation_gone',
  generationFailed: 'generation_failed',
} as const;
