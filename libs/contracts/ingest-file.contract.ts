/**
 * The file ingestion contract between the API, the `ingestFile` workflow and its activities.
 * Types and constants only: the workflow bundle imports this file, so it must stay free of Node built-ins and I/O.
 */

export const INGEST_FILE_WORKFLOW = 'ingestFile';
/** Sent by the API once the bytes are in the object store and the row says `processing`. */
export const UPLOAD_FINISHED_SIGNAL = 'uploadFinished';
/** Sent by the API when it gave up on an upload (and already removed what it wrote). */
export const UPLOAD_FAILED_SIGNAL = 'uploadFailed';
export const INGEST_PROGRESS_QUERY = 'progress';
export const DEFAULT_INGEST_TASK_QUEUE = 'ingest';
/** How long the workflow waits for the upload's outcome before it removes whatever the upload left behind. */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 30 * 60 * 1000;
/** The `TurnKind` search attribute of ingestion runs. */
export const INGEST_RUN_KIND = 'ingest';

export function ingestWorkflowId(fileId: string): string {
  return `ingest:${fileId}`;
}

/** What the API hands the workflow when it starts it, before the row or the object exist. */
export interface IngestFileInput {
  fileId: string;
  userId: string;
  requestId: string;
  /** Wait at most this long for `uploadFinished` / `uploadFailed` (default {@link DEFAULT_UPLOAD_TIMEOUT_MS}). */
  uploadTimeoutMs?: number;
}

export interface UploadFinished {
  size: number;
  sha256: string;
}

export interface UploadFailed {
  reason: string;
}

/** The file's identity as every activity takes it: ids only, never the document's text. */
export interface IngestFileRef {
  fileId: string;
  userId: string;
  requestId: string;
}

export interface ExtractedChunks {
  chunks: number;
  characters: number;
  pages?: number;
}

export interface EmbeddedChunks {
  /** True when no embedding provider is configured: retrieval stays lexical for this file. */
  skipped: boolean;
  embedded: number;
  model?: string;
}

export type IngestStage = 'upload' | 'extract' | 'chunk' | 'embed' | 'index';
export type IngestStatus = 'waiting_upload' | 'running' | 'ready' | 'failed' | 'abandoned';

/** Read by the workflow's `progress` query. */
export interface IngestProgress {
  status: IngestStatus;
  stage: IngestStage;
  /** 0–100. */
  progress: number;
  embedding?: 'skipped' | 'done';
}

/** How a run ended. `failed` and `abandoned` are handled outcomes: the workflow itself completes. */
export interface IngestResult {
  status: 'ready' | 'failed' | 'abandoned';
  chunks: number;
  error?: { code: string; detail: string };
}

/**
 * Stable `ApplicationFailure` types. A document that cannot be read fails with its DocumentError code
 * (`corrupt`, `encrypted`, `too_large`, `empty`); none of these is retried.
 */
export const INGEST_FAILURE_TYPES = {
  corrupt: 'corrupt',
  encrypted: 'encrypted',
  tooLarge: 'too_large',
  empty: 'empty',
  /** The row or the object disappeared (the file was deleted while it was being ingested). */
  fileGone: 'file_gone',
  /** The embedding provider refused (retried first when the provider says it is transient). */
  embeddingFailed: 'embedding_failed',
} as const;

/** Failures no retry can fix. */
export const NON_RETRYABLE_INGEST_FAILURES: string[] = [
  INGEST_FAILURE_TYPES.corrupt,
  INGEST_FAILURE_TYPES.encrypted,
  INGEST_FAILURE_TYPES.tooLarge,
  INGEST_FAILURE_TYPES.empty,
  INGEST_FAILURE_TYPES.fileGone,
];
