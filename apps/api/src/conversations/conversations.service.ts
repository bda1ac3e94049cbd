import { loadBranch } from '../../../../libs/chat/branch';
import { DEFAULT_CONVERSATION_TITLE } from '../../../../libs/chat/turn-rows';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import type { DataSource } from 'typeorm';
import { ConversationShareEntity } from '../../../../libs/db/entities/conversation-share.entity';
import { ConversationEntity } from '../../../../libs/db/entities/conversation.entity';
import { MessageEntity } from '../../../../libs/db/entities/message.entity';
import { ConversationAccess } from '../access/conversation-access';
import type { ConversationPermission } from '../access/conversation-permission';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATA_SOURCE } from '../infra/tokens';
import { ConversationView, MessageView, toConversationView, toMessageView } from './conversation.view';
import type { CreateConversationDto } from './dto/create-conversation.dto';

export const DEFAULT_TITLE = DEFAULT_CONVERSATION_TITLE;

@Injectable()
export class ConversationsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly access: ConversationAccess,
  ) {}

  async create(principal: Principal, dto: CreateConversationDto): Promise<ConversationView> {
    const repo = this.db.getRepository(ConversationEntity);
    const id = randomUUID();
    await repo.insert({
      id,
      ownerId: principal.userId,
      title: dto.title?.trim() || DEFAULT_TITLE,
      model: dto.model ?? null,
      systemPrompt: dto.systemPrompt ?? null,
      currentMessageId: null,
      archivedAt: null,
    });
    return toConversationView(await repo.findOneByOrFail({ id }), 'owner');
  }

  /**
   * The caller's own conversations and those shared with them, most recently active first. Two keyset queries (one
   * per index: owner, share user) each fetch one page and are merged, so paging stays exact across both.
   */
  async list(
    principal: Principal,
    query: { cursor?: string; limit?: number },
  ): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const page = (shared: boolean) => {
      const qb = this.db.getRepository(ConversationEntity).createQueryBuilder('c');
      if (shared) {
        qb.innerJoin(ConversationShareEntity, 's', 's.conversation_id = c.id AND s.user_id = :me', {
          me: principal.userId,
        });
      } else {
        qb.where('c.owner_id = :me', { me: principal.userId });
      }
      qb.orderBy('c.updated_at', 'DESC')
        .addOrderBy('c.id', 'DESC')
        .limit(limit + 1);
      if (cursor) {
        qb.andWhere('(c.updated_at < :at OR (c.updated_at = :at AND c.id < :id))', {
          at: new Date(cursor.at),
          id: cursor.id,
        });
      }
      return qb.getMany();
    };
    const [owned, shared] = await Promise.all([page(false), page(true)]);
    const rows = [...owned, ...shared].sort(
      (a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
    const items = rows.slice(0, limit);
    const sharedIds = items.filter((c) => c.ownerId !== principal.userId).map((c) => c.id);
    const shares =
      sharedIds.length === 0
        ? []
        : await this.db
            .getRepository(ConversationShareEntity)
            .findBy({ userId: principal.userId, conversationId: In(sharedIds) });
    const permissionOf = new Map<string, ConversationPermission>(shares.map((s) => [s.conversationId, s.permission]));
    const last = items.at(-1);
    return {
      items: items.map((c) =>
        toConversationView(c, c.ownerId === principal.userId ? 'owner' : (permissionOf.get(c.id) ?? 'read')),
      ),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.updatedAt.toISOString(), id: last.id }) : null,
    };
  }

  async get(principal: Principal, id: string): Promise<ConversationView & { messages: MessageView[] }> {
    const { conversation, permission } = await this.access.require(principal, id, 'read');
    const messages = await this.currentBranch(conversation);
    return { ...toConversationView(conversation, permission), messages: messages.map(toMessageView) };
  }

  /** The messages from the root to the conversation's current leaf, oldest first. */
  async currentBranch(conversation: ConversationEntity): Promise<MessageEntity[]> {
    if (!conversation.currentMessageId) return [];
    return loadBranch(this.db.manager, conversation.id, conversation.currentMessageId);
  }

  async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.access.require(principal, id, 'owner', { manager: tx, lock: true });
      await tx.getRepository(ConversationEntity).delete({ id });
      await this.audit.record(
        { actorId: principal.userId, action: 'conversation.deleted', targetType: 'conversation', targetId: id },
        client,
        tx,
      );
    });
  }
}
