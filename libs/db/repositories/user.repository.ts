import type { EntityManager } from 'typeorm';

/** The users (and their second-factor recovery codes). */
export class UserRepository {
  constructor(private readonly manager: EntityManager) {}
}
