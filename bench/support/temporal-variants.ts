import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import { TurnRunner } from '../../apps/api/src/turns/turn-runner';
import type { AppConfig } from '#libs/config/app-config';
import {
  CHAT_TURN_WORKFLOW,
  type PersistedAssistantMessage,
  TURN_RESULT_UPDATE,
} from '#libs/contracts/chat-turn.contract';
import { createTurnRows } from './in-process-turn';

/** How the caller waits for a turn's answer when it talks to Temporal directly (no HTTP, no Nest). */
export type TemporalVariant = 'update-with-start' | 'start-then-result';

export interface VariantTurn {
  /** Writing the turn's rows, as the API does before it calls Temporal. */
  createTurnMs: number;
  /** The Temporal call(s) until the answer is there. */
  temporalMs: number;
}

/**
 * One turn through Temporal from this process, with the API's own `TurnRunner`:
 * - `start-then-result` is what the API does (since 2026-12-05): start the workflow, then wait for its result;
 * - `update-with-start` waits on the workflow's `turnResult` update instead, as the API did before (same start
 *   options), to keep the comparison that moved it.
 */
export function temporalVariant(
  variant: TemporalVariant,
  deps: { db: DataSource; temporal: Client; config: AppConfig },
): (userId: string, conversationId: string, content: string) => Promise<VariantTurn> {
  const runner = new TurnRunner(deps.temporal, deps.config);
  return async (userId, conversationId, content) => {
    const t0 = performance.now();
    const input = await createTurnRows(deps.db, userId, conversationId, content);
    const t1 = performance.now();
    if (variant === 'update-with-start') {
      const startWorkflowOperation = new WithStartWorkflowOperation(CHAT_TURN_WORKFLOW, {
        ...runner.startOptions(input, 'chat'),
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      await deps.temporal.workflow.executeUpdateWithStart<Workflow, PersistedAssistantMessage, []>(TURN_RESULT_UPDATE, {
        startWorkflowOperation,
      });
    } else {
      await runner.runAndWait(input, 'chat');
    }
    return { createTurnMs: t1 - t0, temporalMs: performance.now() - t1 };
  };
}
