/** The API's shapes as the client reads them (docs/API-NOTES.md and /api/docs-json are the authority). */

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: { field: string; message: string }[];
  requestId?: string;
  [extra: string]: unknown;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: 'user' | 'admin';
  mfaEnabled: boolean;
  createdAt: string;
}

export interface Conversation {
  id: string;
  title: string | null;
  model: string | null;
  systemPrompt: string | null;
  /** Tools the model may call when a message names none. */
  tools: string[];
  archived: boolean;
  currentMessageId: string | null;
  createdAt: string;
  updatedAt: string;
  shared: boolean;
  permission: 'owner' | 'read' | 'write';
}

export interface Citation {
  kind: 'file' | 'web';
  title: string;
  url?: string;
  fileId?: string;
  chunkId?: string;
  snippet: string;
}

export interface Feedback {
  rating: 'up' | 'down';
  comment: string | null;
  updatedAt: string;
}

export interface Message {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: 'complete' | 'cancelled' | 'failed';
  model: string | null;
  turnId: string | null;
  citations: Citation[];
  /** The tool calls the answer was made with, in order (empty: none). */
  toolCalls: ToolCallRecord[];
  createdAt: string;
  feedback?: Feedback | null;
}

export interface ConversationWithMessages extends Conversation {
  messages: Message[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export type StepName = 'context' | 'retrieval' | 'web_search' | 'generation' | 'persistence';
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'restarted';

export interface TurnStep {
  name: StepName;
  status: StepStatus;
  detail?: string;
}

export interface Turn {
  id: string;
  conversationId: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  steps: TurnStep[];
  userMessageId: string;
  assistantMessageId?: string;
  error?: { code: string; detail: string };
}

/** A tool the model may call in a turn (`GET /tools`); name some as `tools` when sending a message. */
export interface ToolInfo {
  name: string;
  description: string;
  /** JSON schema of the arguments. */
  parameters: Record<string, unknown>;
  /** Each call waits for the turn owner's approval. */
  requiresApproval: boolean;
  timeoutMs: number;
  maxAttempts: number;
}

// The server's own contract (types only: nothing of it reaches the bundle).
export type { ToolCallOutcome, ToolCallRecord } from '../../../../libs/contracts/tool-calls';
import type { ToolCallRecord } from '../../../../libs/contracts/tool-calls';

/** A tool call as its events show it before it has a result. */
export interface ToolCallEventData {
  callId: string;
  name: string;
  /** The model's JSON text. */
  arguments: string;
  step: number;
}

/** `POST /turns/:turnId/tool-calls/:callId/approve` (or `deny`). */
export interface ToolDecisionView {
  turnId: string;
  callId: string;
  decision: 'approved' | 'denied';
}

/** A turn's events as `GET /turns/:id/events` sends them. */
export type TurnEvent =
  | {
      event: 'turn.started';
      data: { turnId: string; conversationId: string; userMessageId: string; assistantMessageId: string };
    }
  | { event: 'step'; data: { name: StepName; status: StepStatus; detail?: string } }
  | { event: 'token'; data: { delta: string } }
  | { event: 'citations'; data: { citations: Citation[] } }
  | { event: 'tool.call'; data: ToolCallEventData & { requiresApproval: boolean; invalid?: string } }
  | { event: 'tool.approval_required'; data: ToolCallEventData & { expiresAt: string } }
  /** At least once: the same result may come again (dedupe by `id`). */
  | { event: 'tool.result'; data: ToolCallRecord }
  | { event: 'message.completed'; data: { assistantMessage: Message } }
  | { event: 'turn.failed'; data: { code: string; detail: string } }
  | { event: 'turn.cancelled'; data: { turnId: string; assistantMessage: Message | null } };

export interface ModelInfo {
  id: string;
  provider: string;
  default: boolean;
}

export interface FileInfo {
  id: string;
  name: string;
  size: number;
  mimeType: string;
  kind: string;
  status: 'processing' | 'ready' | 'failed';
  progress: number;
  stage: string | null;
  chunks: number;
  error?: { code: string; detail: string };
  createdAt: string;
  updatedAt: string;
}

export const SCOPES = ['chat:read', 'chat:write', 'files:read', 'files:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiToken {
  id: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface Share {
  userId: string;
  email: string;
  displayName: string;
  permission: 'read' | 'write';
  createdAt: string;
}

export interface AdminUser {
  id: string;
  email: string;
  displayName: string;
  role: 'user' | 'admin';
  disabled: boolean;
  mfaEnabled: boolean;
  locked: boolean;
  lockedForSeconds: number;
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

export type ReplayStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export interface ReplayArm {
  index: number;
  label: string;
  model: string;
  provider: string;
  systemPrompt?: string | null;
  retrieval: boolean;
  webSearch: boolean;
}

export interface Replay {
  id: string;
  status: ReplayStatus;
  mode: 'pinned' | 'trajectory';
  selection: { conversationIds?: string[]; userId?: string; since?: string; until?: string; query?: string };
  arms: ReplayArm[];
  judge: { model: string; against?: 'original' | 'first-arm' } | null;
  progress: {
    status: ReplayStatus;
    conversations: { total: number; done: number; failed: number; cancelled: number; running: number; pending: number };
    turns: { done: number; failed: number };
    tokens: { prompt: number; completion: number };
    etaSeconds: number | null;
  };
  error: { code: string; detail: string } | null;
  workflowId: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface ReplayResult {
  id: string;
  conversationId: string;
  turnIndex: number;
  userMessage: { id: string; content: string | null };
  original: { id: string; content: string; model: string | null } | null;
  arm: {
    index: number;
    label: string;
    status: 'complete' | 'failed';
    content: string;
    model: string | null;
    metrics: { latencyMs: number | null; promptTokens: number | null; completionTokens: number | null };
    error: { code: string; detail: string } | null;
  };
  verdict: { outcome: 'win' | 'tie' | 'loss'; reason: string } | null;
  bucket: 'improved' | 'regressed' | 'unchanged';
}

/** One of the user's own MCP servers (`/mcp-servers`): the names of the headers it sends, never their values. */
export interface McpServer {
  id: string;
  name: string;
  url: string;
  headerNames: string[];
  /** Null for a server that sends headers. */
  oauth: { signedIn: boolean; signedInAt: string | null; scope: string | null } | null;
  requiresApproval: boolean;
  createdAt: string;
}
