import {
  condition,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { IngestActivities } from '#activities/ingest.activities';
import {
  DEFAULT_UPLOAD_TIMEOUT_MS,
  INGEST_FAILURE_TYPES,
  INGEST_PROGRESS_QUERY,
  NON_RETRYABLE_INGEST_FAILURES,
  UPLOAD_FAILED_SIGNAL,
  UPLOAD_FINISHED_SIGNAL,
} from '#libs/contracts/ingest-file.contract';
import { typedFailureOf } from '#libs/contracts/temporal-failure';
import type {
  IngestFileInput,
  IngestFileRef,
  IngestProgress,
  IngestResult,
  UploadFailed,
  UploadFinished,
} from '#libs/contracts/ingest-file.contract';

export const uploadFinishedSignal = defineSignal<[UploadFinished]>(UPLOAD_FINISHED_SIGNAL);
export const uploadFailedSignal = defineSignal<[UploadFailed]>(UPLOAD_FAILED_SIGNAL);
export const ingestProgressQuery = defineQuery<IngestProgress>(INGEST_PROGRESS_QUERY);

/** Short, idempotent database and store steps. */
const { discardUpload, markReady, markFailed, recordAudit } = proxyLocalActivities<IngestActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
  },
});

/** Reads the object and parses it: bounded by the extractor's own limits, retried only for transient errors. */
const { extractAndChunk } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '5 minutes',
  // It heartbeats while its document waits for and runs on the thread pool: a dead worker is noticed in a minute,
  // and a timed-out or cancelled attempt stops its thread instead of running on beside its retry.
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_INGEST_FAILURES,
  },
});

/** Batched provider calls; heartbeats carry the last batch done, so a retry resumes after it. */
const { embedChunks } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '30 minutes',
  // It beats every 5 s even while a provider call is slow: a dead worker is noticed in 20 s, not minutes later.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE_INGEST_FAILURES,
  },
});

/**
 * One uploaded file, from the moment the API decides to accept it. The API starts this workflow before it writes the
 * row or the object, so whatever an interrupted upload leaves is always owned by a run: the workflow waits for the
 * upload's outcome and, when it fails or never arrives, removes the row and the object. Then: extract + chunk (the
 * chunks go straight to MySQL; only counts come back here) → embed (skipped without a provider) → mark ready → audit.
 * A document that cannot be read marks the file failed with its reason; the run still completes (a handled outcome).
 */
export async function ingestFile(input: IngestFileInput): Promise<IngestResult> {
  const file: IngestFileRef = { fileId: input.fileId, userId: input.userId, requestId: input.requestId };
  const progress: IngestProgress = { status: 'waiting_upload', stage: 'upload', progress: 0 };
  let finished: UploadFinished | undefined;
  let failed: UploadFailed | undefined;
  setHandler(ingestProgressQuery, () => progress);
  setHandler(uploadFinishedSignal, (upload) => {
    finished ??= upload;
  });
  setHandler(uploadFailedSignal, (failure) => {
    failed ??= failure;
  });

  const arrived = await condition(
    () => finished !== undefined || failed !== undefined,
    input.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
  );
  if (!arrived || failed || !finished) {
    const reason = failed?.reason ?? 'the upload did not finish in time';
    log.warn('upload abandoned; removing what it left', { fileId: input.fileId, reason });
    await discardUpload(file);
    progress.status = 'abandoned';
    return { status: 'abandoned', chunks: 0, error: { code: 'upload_abandoned', detail: reason } };
  }

  progress.status = 'running';
  try {
    progress.stage = 'extract';
    progress.progress = 10;
    const extracted = await extractAndChunk(file);

    progress.stage = 'embed';
    progress.progress = 50;
    const embedded = await embedChunks(file);
    progress.embedding = embedded.skipped ? 'skipped' : 'done';

    progress.stage = 'index';
    progress.progress = 95;
    await markReady({ ...file, chunks: extracted.chunks, embeddingModel: embedded.model ?? null });
    progress.status = 'ready';
    progress.progress = 100;
    await recordAudit({
      ...file,
      action: 'file.ingested',
      metadata: {
        chunks: extracted.chunks,
        characters: extracted.characters,
        ...(extracted.pages !== undefined ? { pages: extracted.pages } : {}),
        size: finished.size,
        sha256: finished.sha256,
        embeddings: embedded.skipped ? 'skipped' : embedded.model,
      },
    });
    return { status: 'ready', chunks: extracted.chunks };
  } catch (error) {
    const reason = typedFailureOf(error);
    // Only the failures ingestion names are shown as they are; anything else (a driver error, a parser bug) is
    // logged with its type and shown to the user as a plain `ingest_failed`, never with its internals.
    const known = reason?.type !== undefined && reason.type !== null && KNOWN_FAILURES.has(reason.type);
    const code = known ? reason.type : 'ingest_failed';
    const detail = known
      ? reason.message
      : 'The file could not be processed. Try uploading it again; if it keeps failing, the file may be damaged.';
    if (!known) log.error('unexpected ingestion failure', { fileId: input.fileId, type: reason?.type ?? 'unknown' });
    log.warn('file ingestion failed', { fileId: input.fileId, stage: progress.stage, code });
    if (code === 'file_gone') {
      // Deleted while it was being ingested: nothing is left to mark.
      progress.status = 'abandoned';
      return { status: 'abandoned', chunks: 0, error: { code, detail } };
    }
    await markFailed({ ...file, code, detail });
    progress.status = 'failed';
    await recordAudit({ ...file, action: 'file.ingest_failed', metadata: { code, stage: progress.stage } });
    return { status: 'failed', chunks: 0, error: { code, detail } };
  }
}

const KNOWN_FAILURES: ReadonlySet<string> = new Set(Object.values(INGEST_FAILURE_TYPES));
