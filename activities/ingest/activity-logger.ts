import { ingestWorkflowId, type IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { Logger } from '#libs/logging/logger';

/** The logger of one ingest activity run: every line names the request, the file, its workflow and the step. */
export function activityLogger(logger: Logger, file: IngestFileRef, activity: string): Logger {
  return logger.child({
    requestId: file.requestId,
    fileId: file.fileId,
    workflowId: ingestWorkflowId(file.fileId),
    activity,
  });
}
