import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { TOOL_DECISION_FAILURES } from '#libs/contracts/tool-calls';
import type { Database } from '#libs/db/database';
import { ConflictError, ForbiddenError, NotFoundError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { DATABASE } from '../infra/di-symbols';
import { TurnRunner } from './turn-runner';
import { TurnsService } from './turns.service';

export interface ToolDecisionView {
  turnId: string;
  callId: string;
  decision: 'approved' | 'denied';
}

/**
 * How long a decision on a call the workflow has not taken in yet is retried: the `tool.approval_required` event is
 * sent by the model step, a moment before the workflow records the call, and a quick client may answer in between.
 */
const NOT_YET_KNOWN_RETRY_MS = 3_000;

/**
 * `POST /turns/:id/tool-calls/:callId/approve|deny`. Only the turn's owner decides (a sharee who may read the turn is
 * refused; anyone else finds no turn), only for a call that waits for a decision, and only once: the workflow's
 * update validator enforces the last two, so two racing decisions cannot both land.
 */
@Injectable()
export class ToolApprovalService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly turns: TurnsService,
    private readonly runner: TurnRunner,
  ) {}

  async decide(principal: Principal, turnId: string, callId: string, approve: boolean): Promise<ToolDecisionView> {
    const turn = await this.turns.requireTurn(principal, turnId, 'read');
    if (turn.userId !== principal.userId) throw new ForbiddenError("Only the turn's owner approves its tool calls");
    const closed = async (): Promise<never> => {
      const fresh = (await this.db.turns.findById(turn.id)) ?? turn;
      throw new ConflictError('The turn is no longer running', { turnId: turn.id, turnStatus: fresh.status });
    };
    if (turn.status !== 'running' && turn.status !== 'queued') return closed();
    const decision = { callId, approve, userId: principal.userId };
    const deadline = Date.now() + NOT_YET_KNOWN_RETRY_MS;
    for (;;) {
      const outcome = await this.runner.decideToolCall(turn.id, decision);
      if (outcome === 'accepted') return { turnId: turn.id, callId, decision: approve ? 'approved' : 'denied' };
      if (outcome === 'closed') return closed();
      if (outcome.refused === TOOL_DECISION_FAILURES.unknownCall && Date.now() < deadline) {
        await sleep(150);
        continue;
      }
      if (outcome.refused === TOOL_DECISION_FAILURES.unknownCall) throw new NotFoundError('Tool call');
      if (outcome.refused === TOOL_DECISION_FAILURES.notOwner) {
        throw new ForbiddenError("Only the turn's owner approves its tool calls");
      }
      throw new ConflictError('The tool call is not waiting for a decision (already decided, timed out or not gated)', {
        turnId: turn.id,
        callId,
      });
    }
  }
}
