import { In, type EntityManager } from 'typeorm';
import type { TurnStep } from '../../contracts/chat-turn.contract';
import { TurnEntity } from '../entities/turn.entity';
import { insertAsGiven } from './insert-as-given';

/** Chat turns: the queued → running → completed | failed | cancelled record of each request for an answer. */
export class TurnRepository {
  constructor(private readonly manager: EntityManager) {}

  private get turns() {
    return this.manager.getRepository(TurnEntity);
  }

  findById(id: string): Promise<TurnEntity | null> {
    return this.turns.findOneBy({ id });
  }

  /** These turns (the ones that exist), in no particular order. */
  findByIds(ids: readonly string[]): Promise<TurnEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.turns.findBy({ id: In([...ids]) });
  }

  /** The turn a user's earlier request with this Idempotency-Key created. */
  findByIdempotencyKey(userId: string, idempotencyKey: string): Promise<TurnEntity | null> {
    return this.turns.findOneBy({ userId, idempotencyKey });
  }

  async insert(turn: TurnEntity): Promise<void> {
    await insertAsGiven(this.manager, TurnEntity, turn);
  }

  /** A queued turn's workflow picked it up; a turn already past queued is left as it is. */
  async markRunning(id: string): Promise<void> {
    await this.turns.update({ id, status: 'queued' }, { status: 'running' });
  }

  async markCompleted(id: string, outcome: { steps: TurnStep[]; model: string }): Promise<void> {
    await this.turns.update({ id }, { status: 'completed', ...outcome, completedAt: new Date() });
  }

  async markFailed(id: string, outcome: { code: string; detail: string; steps: TurnStep[] }): Promise<void> {
    await this.turns.update(
      { id },
      {
        status: 'failed',
        errorCode: outcome.code.slice(0, 64),
        errorDetail: outcome.detail.slice(0, 1000),
        steps: outcome.steps,
        completedAt: new Date(),
      },
    );
  }

  async markCancelled(id: string, steps: TurnStep[]): Promise<void> {
    await this.turns.update({ id }, { status: 'cancelled', steps, completedAt: new Date() });
  }
}
