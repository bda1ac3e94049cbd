import { ApplicationFailure } from '@temporalio/activity';
import { INGEST_FAILURE_TYPES, type IngestFileRef } from '#libs/contracts/ingest-file.contract';

/** The row or the object disappeared: the file was deleted while it was being ingested. No retry brings it back. */
export function fileGone(file: IngestFileRef): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`File ${file.fileId} no longer exists`, INGEST_FAILURE_TYPES.fileGone);
}
