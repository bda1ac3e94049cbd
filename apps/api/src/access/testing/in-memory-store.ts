import type { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import type { ConversationShareEntity } from '#libs/db/entities/conversation-share.entity';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { Sharee } from '#libs/db/repositories/conversation.repository';
import type { KeysetPosition } from '#libs/db/repositories/keyset-position';

/** TEST ONLY: the in-memory database's rows and the orderings its repositories share. */

/**
 * Some of a repository's public methods, with their real signatures: a fake holds those this slice's services call
 * (the real class also holds its EntityManager, and methods of the chat path these specs never reach).
 */
export type SomeOf<T> = Partial<{ [K in keyof T]: T[K] }>;

export interface State {
  users: Sharee[];
  conversations: ConversationEntity[];
  shares: ConversationShareEntity[];
  messages: MessageEntity[];
  feedback: MessageFeedbackEntity[];
  audit: AuditLogEntity[];
}

/** The rows, and the clock their creation and update times come from. */
export class MemoryStore {
  state: State = { users: [], conversations: [], shares: [], messages: [], feedback: [], audit: [] };
  private clock = Date.parse('2030-01-01T00:00:00.000Z');

  now(): Date {
    this.clock += 1;
    return new Date(this.clock);
  }
}

const byTimeAndId =
  (time: (row: { createdAt: Date; updatedAt?: Date }) => Date) =>
  <T extends { id: string; createdAt: Date; updatedAt?: Date }>(a: T, b: T): number =>
    time(a).getTime() - time(b).getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
export const byCreation = byTimeAndId((row) => row.createdAt);
export const byActivity = byTimeAndId((row) => row.updatedAt ?? row.createdAt);

/** Strictly after `position` in ascending (creation or activity) order. */
export function isAfter(at: Date, id: string, position: KeysetPosition): boolean {
  return at.getTime() > position.at.getTime() || (at.getTime() === position.at.getTime() && id > position.id);
}
