import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '#libs/contracts/search-attributes';
import type { AppConfig } from '#libs/config/app-config';
import {
  INGEST_FILE_WORKFLOW,
  INGEST_RUN_KIND,
  IngestFileInput,
  ingestWorkflowId,
  UPLOAD_FAILED_SIGNAL,
  UPLOAD_FINISHED_SIGNAL,
  UploadFailed,
  UploadFinished,
} from '#libs/contracts/ingest-file.contract';
import { APP_CONFIG, TEMPORAL_CLIENT } from '../infra/di-symbols';

/** The API's port to Temporal for file ingestion: start the run, tell it how the upload went, stop it. */
@Injectable()
export class IngestRunner {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts `ingestFile` before anything of the file is written, so every leftover has an owner that cleans it up. */
  async start(input: IngestFileInput, fileName: string): Promise<void> {
    await this.client.workflow.start(INGEST_FILE_WORKFLOW, {
      workflowId: ingestWorkflowId(input.fileId),
      taskQueue: this.config.temporal.ingestTaskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTE_KEYS.userId, value: input.userId },
        { key: SEARCH_ATTRIBUTE_KEYS.turnKind, value: INGEST_RUN_KIND },
      ],
      memo: {
        summary: `ingest file ${input.fileId} for user ${input.userId}`,
        fileName,
        requestId: input.requestId,
      },
    });
  }

  async uploadFinished(fileId: string, upload: UploadFinished): Promise<void> {
    await this.client.workflow.getHandle(ingestWorkflowId(fileId)).signal(UPLOAD_FINISHED_SIGNAL, upload);
  }

  /** Best effort: when the signal cannot be sent, the run's wait expires and it cleans up all the same. */
  async uploadFailed(fileId: string, failure: UploadFailed): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(ingestWorkflowId(fileId)).signal(UPLOAD_FAILED_SIGNAL, failure);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the run if it still runs (a closed or unknown run is fine): the file is being deleted. */
  async terminate(fileId: string, reason: string): Promise<void> {
    try {
      await this.client.workflow.getHandle(ingestWorkflowId(fileId)).terminate(reason);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
  }
}
