/**
 * The operator's batch workflows (`reembedFiles`, `purgeData`), started by the CLI: inputs, progress and results.
 * Types and constants only: the workflow bundle imports this file, so it must stay free of Node built-ins and I/O.
 * Both run on the ingest task queue, whose worker holds the object store, the chunks and the embedding client.
 */

export const REEMBED_FILES_WORKFLOW = 'reembedFiles';
export const PURGE_DATA_WORKFLOW = 'purgeData';
export const REEMBED_PROGRESS_QUERY = 'reembedProgress';
export const PURGE_PROGRESS_QUERY = 'purgeProgress';
/**
 * One re-embedding at a time per deployment (its ingest task queue): a second start finds the id running and follows
 * that run instead.
 */
export function reembedWorkflowId(ingestTaskQueue: string): string {
  return `reembed-files:${ingestTaskQueue}`;
}
/** Files embedded side by side (each one's batches go to the provider in order). */
export const REEMBED_CONCURRENCY = 4;
/** Items handled per run before it continues as new, keeping each run's history small. */
export const MAINTENANCE_ITEMS_PER_RUN = 200;

export function purgeWorkflowId(purgeId: string): string {
  return `purge:${purgeId}`;
}

/** The start of a re-embedding, carried over (with its progress) each time the run continues as new. */
export interface ReembedFilesInput {
  /** Re-embed every ready file, even those already embedded with the configured model. */
  all: boolean;
  /** Who asked (`cli`), for the audit log. */
  requestedBy: string;
  /** Files are taken in id order; the next page starts after this one. */
  afterFileId?: string;
  progress?: ReembedProgress;
}

export interface ReembedProgress {
  status: 'running' | 'completed';
  /** The configured embedding model the files are brought to. */
  model: string;
  /** Files to do, counted when the re-embedding started. */
  total: number;
  done: number;
  failed: number;
  /** Up to 20 files that could not be embedded, with why. */
  failures: { fileId: string; reason: string }[];
}

/** The files one page of the re-embedding covers, and the model they are brought to. */
export interface ReembedPage {
  model: string;
  files: { fileId: string; userId: string }[];
}

/**
 * A purge: every conversation inactive and every file uploaded before `cutoff` (an ISO time the CLI computed from
 * `--older-than`), or everything a user owns and then the account itself (`userId`; the account must be disabled).
 */
export type PurgeTarget = { kind: 'older_than'; cutoff: string; days: number } | { kind: 'user'; userId: string };

export interface PurgeDataInput {
  purgeId: string;
  target: PurgeTarget;
  requestedBy: string;
  progress?: PurgeProgress;
}

export interface PurgeProgress {
  status: 'running' | 'completed';
  conversations: number;
  files: number;
  /** For a user purge: whether the account row is gone. */
  accountDeleted: boolean;
}

/** The next items a purge deletes; empty lists when it is done. */
export interface PurgeBatch {
  conversationIds: string[];
  files: { fileId: string; userId: string }[];
}

/** Stable `ApplicationFailure` types of the maintenance workflows. */
export const MAINTENANCE_FAILURE_TYPES = {
  /** No embedding provider is configured (EMBEDDING_BASE_URL): there is nothing to re-embed with. */
  embeddingsOff: 'embeddings_off',
  /** A user purge found the account still enabled (disable it first, which also ends its sessions). */
  accountEnabled: 'account_enabled',
} as const;
