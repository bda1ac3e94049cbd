/**
 * The operator's `reencryptFiles` workflow (CLI `gigachat reencrypt-files`): brings every ready file's object to the
 * current master key of FILES_ENCRYPTION_KEYS — clear objects from before encryption, and objects sealed under an
 * older key before that key is retired. Types and constants only (the workflow bundle imports this file).
 */
export const REENCRYPT_FILES_WORKFLOW = 'reencryptFiles';
export const REENCRYPT_PROGRESS_QUERY = 'reencryptProgress';
/** Files rewritten side by side. */
export const REENCRYPT_CONCURRENCY = 4;

/** One re-encryption at a time per deployment (its ingest task queue). */
export function reencryptWorkflowId(ingestTaskQueue: string): string {
  return `reencrypt-files:${ingestTaskQueue}`;
}

export interface ReencryptFilesInput {
  /** Who asked (`cli`), for the audit log. */
  requestedBy: string;
  /** Files are taken in id order; the next page starts after this one. */
  afterFileId?: string;
  progress?: ReencryptProgress;
}

/** What happened to one file's object. */
export type ReencryptOutcome = 'rewritten' | 'rewrapped' | 'current' | 'gone';

export interface ReencryptProgress {
  status: 'running' | 'completed';
  /** Files looked at so far. */
  seen: number;
  /** Clear objects from before encryption, rewritten sealed under the current key. */
  rewritten: number;
  /**
   * Objects sealed under an older key whose data key was re-wrapped under the current one (the bytes untouched).
   * Absent in the progress of runs from before re-wrapping existed.
   */
  rewrapped?: number;
  /** Already under the current key. */
  current: number;
  failed: number;
  failures: { fileId: string; reason: string }[];
}
