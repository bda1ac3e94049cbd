import type { EntityManager } from 'typeorm';

/** The scoped API tokens (stored as hashes). */
export class ApiTokenRepository {
  constructor(private readonly manager: EntityManager) {}
}
