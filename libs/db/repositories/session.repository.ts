import type { EntityManager } from 'typeorm';

/** The sign-in sessions and their rotating refresh tokens. */
export class SessionRepository {
  constructor(private readonly manager: EntityManager) {}
}
