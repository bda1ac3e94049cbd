import type { EntityManager } from 'typeorm';
import { In, LessThan } from 'typeorm';
import { ConversationShareEntity } from '../entities/conversation-share.entity';
import { ConversationEntity } from '../entities/conversation.entity';
import { UserEntity } from '../entities/user.entity';
import type { KeysetPosition } from './keyset-position';

export type NewConversation = Pick<
  ConversationEntity,
  'id' | 'ownerId' | 'title' | 'model' | 'systemPrompt' | 'tools' | 'currentMessageId' | 'archivedAt'
>;

/** The fields a conversation's users may change (who may change which is the service's business). */
export type ConversationChanges = Partial<
  Pick<ConversationEntity, 'title' | 'model' | 'systemPrompt' | 'tools' | 'currentMessageId' | 'archivedAt'>
>;

export interface ConversationListFilter {
  /** Archived by their owner (`true`) or not (`false`). */
  archived: boolean;
  /** A case-insensitive part of the title; `%` and `_` are taken literally. */
  titlePart?: string;
  /** Only conversations after this one in the order (less recently active). */
  after?: KeysetPosition;
}

export type NewShare = Pick<ConversationShareEntity, 'conversationId' | 'userId' | 'permission' | 'createdBy'>;

/** The account a conversation is (or would be) shared with, as the share routes show it. */
export type Sharee = Pick<UserEntity, 'id' | 'email' | 'displayName'>;

export interface ShareWithSharee {
  share: ConversationShareEntity;
  sharee: Sharee;
}

/** Conversations and their shares. */
export class ConversationRepository {
  constructor(private readonly manager: EntityManager) {}

  private get conversations() {
    return this.manager.getRepository(ConversationEntity);
  }

  /**
   * With `lock`, the row stays locked (FOR UPDATE) until the transaction ends: every share change and every send takes
   * this lock first, so what is read after it is current. A lock needs a transaction.
   */
  findById(id: string, options: { lock?: boolean } = {}): Promise<ConversationEntity | null> {
    return this.conversations.findOne({
      where: { id },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** Shows `messageId` as the end of the current branch (and retitles the conversation when `title` is given). */
  async showMessage(id: string, messageId: string, title?: string): Promise<void> {
    await this.conversations.update({ id }, { currentMessageId: messageId, ...(title !== undefined ? { title } : {}) });
  }

  /**
   * Moves the current branch on to `toMessageId` only if it still ends at `fromMessageId`: a turn's answer is followed
   * unless the user switched branches meanwhile.
   */
  async followBranch(id: string, fromMessageId: string, toMessageId: string): Promise<void> {
    await this.conversations.update({ id, currentMessageId: fromMessageId }, { currentMessageId: toMessageId });
  }

  /** Inserts the conversation and returns it as stored (with its creation and update times). */
  async create(conversation: NewConversation): Promise<ConversationEntity> {
    await this.conversations.insert(conversation);
    return this.conversations.findOneByOrFail({ id: conversation.id });
  }

  /** Changes the given fields (the update time moves on) and returns the conversation as stored. */
  async update(id: string, changes: ConversationChanges): Promise<ConversationEntity> {
    await this.conversations.update({ id }, changes);
    return this.conversations.findOneByOrFail({ id });
  }

  /** Deletes the conversation; its messages, turns, feedback and shares go with it (foreign keys cascade). */
  async delete(id: string): Promise<void> {
    await this.conversations.delete({ id });
  }

  /**
   * The user's own conversations and those shared with them, most recently active first (update time, then id), at
   * most `limit`. Two keyset queries (one per index: owner, share user) each fetch up to `limit` rows and are merged,
   * so paging stays exact across both.
   */
  async listForUser(userId: string, filter: ConversationListFilter, limit: number): Promise<ConversationEntity[]> {
    const page = (shared: boolean): Promise<ConversationEntity[]> => {
      const qb = this.conversations.createQueryBuilder('c');
      if (shared) {
        qb.innerJoin(ConversationShareEntity, 's', 's.conversation_id = c.id AND s.user_id = :me', { me: userId });
      } else {
        qb.where('c.owner_id = :me', { me: userId });
      }
      qb.andWhere(filter.archived ? 'c.archived_at IS NOT NULL' : 'c.archived_at IS NULL');
      if (filter.titlePart) {
        qb.andWhere("c.title LIKE :title ESCAPE '!'", { title: `%${filter.titlePart.replace(/[!%_]/g, '!$&')}%` });
      }
      if (filter.after) {
        qb.andWhere('(c.updated_at < :at OR (c.updated_at = :at AND c.id < :id))', filter.after);
      }
      return qb.orderBy('c.updated_at', 'DESC').addOrderBy('c.id', 'DESC').limit(limit).getMany();
    };
    const [owned, shared] = await Promise.all([page(false), page(true)]);
    return [...owned, ...shared].sort(byActivityDescending).slice(0, limit);
  }

  findShare(conversationId: string, userId: string): Promise<ConversationShareEntity | null> {
    return this.manager.getRepository(ConversationShareEntity).findOneBy({ conversationId, userId });
  }

  /** The user's shares among these conversations. */
  sharesOf(userId: string, conversationIds: readonly string[]): Promise<ConversationShareEntity[]> {
    if (conversationIds.length === 0) return Promise.resolve([]);
    return this.manager
      .getRepository(ConversationShareEntity)
      .findBy({ userId, conversationId: In([...conversationIds]) });
  }

  /** Shares the conversation, or changes the permission of the existing share (its creation is kept). */
  async saveShare(share: NewShare): Promise<ConversationShareEntity> {
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(ConversationShareEntity)
      .values(share)
      .orUpdate(['permission'], ['conversation_id', 'user_id'])
      .execute();
    return this.manager
      .getRepository(ConversationShareEntity)
      .findOneByOrFail({ conversationId: share.conversationId, userId: share.userId });
  }

  /** Every share of the conversation with its sharee's account, oldest first. */
  async listShares(conversationId: string): Promise<ShareWithSharee[]> {
    const rows = await this.manager
      .getRepository(ConversationShareEntity)
      .createQueryBuilder('s')
      .innerJoinAndMapOne('s.user', UserEntity, 'u', 'u.id = s.user_id')
      .where('s.conversation_id = :conversationId', { conversationId })
      .orderBy('s.created_at', 'ASC')
      .addOrderBy('s.user_id', 'ASC')
      .getMany();
    return rows.map((row) => {
      const { user, ...share } = row as ConversationShareEntity & { user: UserEntity };
      return { share, sharee: user };
    });
  }

  async deleteShare(conversationId: string, userId: string): Promise<void> {
    await this.manager.getRepository(ConversationShareEntity).delete({ conversationId, userId });
  }

  /**
   * The account with this (normalised) email, as a share shows it. It reads the users table because a share is
   * addressed by email; it moves to the users' repository once that one answers the same question.
   */
  findSharee(email: string): Promise<Sharee | null> {
    return this.manager
      .getRepository(UserEntity)
      .findOne({ where: { email }, select: { id: true, email: true, displayName: true } });
  }

  /** Conversations with no activity since `cutoff` (last update before it), oldest first: what a purge by age removes. */
  async idsInactiveSince(cutoff: Date, limit: number): Promise<string[]> {
    const rows = await this.conversations.find({
      select: { id: true },
      where: { updatedAt: LessThan(cutoff) },
      order: { updatedAt: 'ASC', id: 'ASC' },
      take: limit,
    });
    return rows.map((row) => row.id);
  }

  /** Any `limit` of the conversations the user owns: what purging the user removes. */
  async idsOwnedBy(ownerId: string, limit: number): Promise<string[]> {
    const rows = await this.conversations.find({ select: { id: true }, where: { ownerId }, take: limit });
    return rows.map((row) => row.id);
  }
}

function byActivityDescending(a: ConversationEntity, b: ConversationEntity): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
