import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '#libs/db/database';
import { ConflictError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { DATABASE } from '../infra/di-symbols';
import { TurnRunner } from './turn-runner';
import { TurnsService } from './turns.service';

export interface CancelTurnView {
  id: string;
  /** `cancelling`: the request reached the workflow, the turn ends as `cancelled` shortly (follow it). */
  status: 'cancelling' | 'cancelled';
}

/**
 * `POST /turns/:id/cancel`. Anyone who may send messages in the conversation may stop its turn. The workflow is
 * cancelled; its generate activity sees it through its next heartbeat, stops the model call and keeps the partial
 * answer, marked cancelled. Cancelling an already cancelled turn is a no-op; a finished turn cannot be cancelled.
 */
@Injectable()
export class TurnCancellationService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly turns: TurnsService,
    private readonly runner: TurnRunner,
  ) {}

  async cancel(principal: Principal, turnId: string): Promise<CancelTurnView> {
    const turn = await this.turns.requireTurn(principal, turnId, 'write');
    if (turn.status === 'cancelled') return { id: turn.id, status: 'cancelled' };
    if (turn.status === 'completed' || turn.status === 'failed') {
      throw new ConflictError(`The turn has already ${turn.status === 'completed' ? 'completed' : 'failed'}`, {
        turnId: turn.id,
        turnStatus: turn.status,
      });
    }
    const requested = await this.runner.cancel(turn.id);
    if (!requested) {
      // The workflow closed between the read and the request: report what it ended as.
      const fresh = (await this.db.turns.findById(turn.id)) ?? turn;
      if (fresh.status === 'cancelled') return { id: turn.id, status: 'cancelled' };
      throw new ConflictError('The turn has already finished', { turnId: turn.id, turnStatus: fresh.status });
    }
    return { id: turn.id, status: 'cancelling' };
  }
}
