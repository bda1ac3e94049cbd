import type { EntityManager } from 'typeorm';

/** The chat turns: the queued/running/ended record of each request for an answer. */
export class TurnRepository {
  constructor(private readonly manager: EntityManager) {}
}
