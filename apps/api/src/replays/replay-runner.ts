import { Inject, Injectable } from '@nestjs/common';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { AppConfig } from '#libs/config/app-config';
import {
  REPLAY_CONTROL_UPDATE,
  REPLAY_CONVERSATIONS_WORKFLOW,
  REPLAY_PROGRESS_QUERY,
  replayWorkflowId,
  type ReplayBatchInput,
  type ReplayControlAction,
  type ReplayProgress,
} from '#libs/contracts/replay.contract';
import { SEARCH_ATTRIBUTE_KEYS } from '#libs/contracts/search-attributes';
import { describeSelection, type ReplaySelection } from '#libs/replay/replay-selection';
import { APP_CONFIG, TEMPORAL_CLIENT } from '../infra/di-symbols';

/** The replay's workflow is no longer running: its outcome is in the database. */
export class ReplayNotRunningError extends Error {}

/** The API's port to Temporal for batch replays. */
@Injectable()
export class ReplayRunner {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts `replayConversations` on the replay queue; starting it again (a retried request) is harmless. The memo
   * says what is replayed in words, so an operator reads it in the Temporal UI.
   */
  async start(input: ReplayBatchInput, selection: ReplaySelection): Promise<void> {
    try {
      await this.client.workflow.start(REPLAY_CONVERSATIONS_WORKFLOW, {
        workflowId: replayWorkflowId(input.replayId),
        taskQueue: this.config.temporal.replayTaskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTE_KEYS.replayId, value: input.replayId },
          { key: SEARCH_ATTRIBUTE_KEYS.userId, value: input.createdBy },
          { key: SEARCH_ATTRIBUTE_KEYS.turnKind, value: 'replay' },
        ],
        memo: {
          summary: `replay of ${input.totalConversations} conversations (${input.mode})`,
          selection: describeSelection(selection),
          arms: input.arms.map((arm) => `${arm.index}: ${arm.label} (${arm.model})`).join('; '),
          judge: input.judge ? `${input.judge.model} vs ${input.judge.against}` : 'none',
          requestId: input.requestId,
        },
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw error;
    }
  }

  /** Live progress, or undefined when the workflow cannot be asked (ended, or no worker right now). */
  async progress(replayId: string): Promise<ReplayProgress | undefined> {
    try {
      const handle = this.client.workflow.getHandle(replayWorkflowId(replayId));
      return await handle.query<ReplayProgress>(REPLAY_PROGRESS_QUERY);
    } catch {
      return undefined;
    }
  }

  /** Pauses, resumes or cancels the running replay; its progress after the change. */
  async control(replayId: string, action: ReplayControlAction): Promise<ReplayProgress> {
    const handle = this.client.workflow.getHandle(replayWorkflowId(replayId));
    try {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') throw new ReplayNotRunningError(`the workflow is ${status.name.toLowerCase()}`);
      return await handle.executeUpdate<ReplayProgress, [ReplayControlAction]>(REPLAY_CONTROL_UPDATE, {
        args: [action],
      });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ReplayNotRunningError(error.message);
      // The run ended (or continued as new) while the update was on its way.
      if (error instanceof WorkflowUpdateFailedError) throw new ReplayNotRunningError(error.message);
      throw error;
    }
  }
}
