import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { TurnRunner } from '../../apps/api/src/turns/turn-runner';
import type { AppConfig } from '#libs/config/app-config';
import { turnWorkflowId } from '#libs/contracts/chat-turn.contract';
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
 * - `update-with-start` is what the API does (the answer arrives once persisted, before the audit);
 * - `start-then-result` starts the workflow and waits for its result (which also waits for the audit activity).
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
      await runner.runAndWait(input, 'chat');
    } else {
      await runner.start(input, 'chat');
      await deps.temporal.workflow.getHandle(turnWorkflowId(input.turnId)).result();
    }
    return { createTurnMs: t1 - t0, temporalMs: performance.now() - t1 };
  };
}
