import type { EntityManager } from 'typeorm';

/** The conversations and their shares. */
export class ConversationRepository {
  constructor(private readonly manager: EntityManager) {}
}
