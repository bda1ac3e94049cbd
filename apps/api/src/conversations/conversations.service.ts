import { repositoriesFor } from '#libs/db/database';
import { DEFAULT_CONVERSATION_TITLE } from '#libs/chat/turn-rows';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import type { DataSource } from 'typeorm';
import { ConversationShareEntity } from '#libs/db/entities/conversation-share.entity';
import { ConversationEntity } from '#libs/db/entities/conversation.entity';
import { MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';
import { MessageEntity } from '#libs/db/entities/message.entity';
import { NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ConversationAccess } from '../access/conversation-access';
import type { ConversationPermission } from '../access/conversation-permission';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATA_SOURCE } from '../infra/di-symbols';
import { PageQuery } from '../common/page.query';
import {
  ConversationMessageView,
  ConversationView,
  toConversationView,
  toFeedbackView,
  toMessageView,
} from './conversation.view';
import type { CreateConversationDto } from './dto/create-conversation.dto';
import type { ListConversationsQuery } from './dto/list-conversations.query';
import type { UpdateConversationDto } from './dto/update-conversation.dto';

const UPDATABLE = ['title', 'archived', 'model', 'systemPrompt', 'currentMessageId'] as const;
const OWNER_ONLY: ReadonlySet<(typeof UPDATABLE)[number]> = new Set(['archived', 'model', 'systemPrompt']);

export const DEFAULT_TITLE = DEFAULT_CONVERSATION_TITLE;
import { ModelCatalog } from '#libs/llm/provider-registry';
import { requireServedModel } from '../models/served-model';

@Injectable()
export class ConversationsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly access: ConversationAccess,
    private readonly models: ModelCatalog,
  ) {}

  async create(principal: Principal, dto: CreateConversationDto): Promise<ConversationView> {
    if (dto.model !== undefined) requireServedModel(this.models, dto.model);
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
   * per index: owner, share user) each fetch one page and are merged, so paging stays exact across both. Archived
   * ones (archived by their owner) only with `archived: true`; `q` is a case-insensitive part of the title.
   */
  async list(
    principal: Principal,
    query: ListConversationsQuery,
  ): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const titlePart = query.q?.trim();
    const page = (shared: boolean) => {
      const qb = this.db.getRepository(ConversationEntity).createQueryBuilder('c');
      if (shared) {
        qb.innerJoin(ConversationShareEntity, 's', 's.conversation_id = c.id AND s.user_id = :me', {
          me: principal.userId,
        });
      } else {
        qb.where('c.owner_id = :me', { me: principal.userId });
      }
      qb.andWhere(query.archived ? 'c.archived_at IS NOT NULL' : 'c.archived_at IS NULL');
      if (titlePart) {
        qb.andWhere("c.title LIKE :title ESCAPE '!'", { title: `%${titlePart.replace(/[!%_]/g, '!$&')}%` });
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

  async get(principal: Principal, id: string): Promise<ConversationView & { messages: ConversationMessageView[] }> {
    const { conversation, permission } = await this.access.require(principal, id, 'read');
    const messages = await this.currentBranch(conversation);
    return {
      ...toConversationView(conversation, permission),
      messages: await this.withFeedback(principal.userId, messages),
    };
  }

  /**
   * Changes what the body names. `title` and `currentMessageId` (switching branch) need write access, `archived`,
   * `model` and `systemPrompt` the owner; a body naming both needs the owner.
   */
  async update(
    principal: Principal,
    id: string,
    dto: UpdateConversationDto,
    client: ClientInfo,
  ): Promise<ConversationView> {
    const fields = UPDATABLE.filter((field) => dto[field] !== undefined);
    if (fields.length === 0) {
      throw new ValidationError([{ field: '(body)', message: `must change at least one of ${UPDATABLE.join(', ')}` }]);
    }
    if (dto.model) requireServedModel(this.models, dto.model);
    const need = fields.some((field) => OWNER_ONLY.has(field)) ? 'owner' : 'write';
    return this.db.transaction(async (tx) => {
      const { conversation, permission } = await this.access.require(principal, id, need, { manager: tx, lock: true });
      const update: Partial<ConversationEntity> = {};
      if (dto.title !== undefined) update.title = dto.title.trim();
      if (dto.archived !== undefined) update.archivedAt = dto.archived ? (conversation.archivedAt ?? new Date()) : null;
      if (dto.model !== undefined) update.model = dto.model;
      if (dto.systemPrompt !== undefined) update.systemPrompt = dto.systemPrompt;
      if (dto.currentMessageId !== undefined) {
        const messageId = dto.currentMessageId.toLowerCase();
        const known = await tx.getRepository(MessageEntity).exists({ where: { id: messageId, conversationId: id } });
        if (!known) throw new NotFoundError('The message');
        update.currentMessageId = messageId;
      }
      await tx.getRepository(ConversationEntity).update({ id }, update);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.updated',
          targetType: 'conversation',
          targetId: id,
          metadata: { fields },
        },
        client,
        tx,
      );
      return toConversationView(await tx.getRepository(ConversationEntity).findOneByOrFail({ id }), permission);
    });
  }

  /** Every message of the conversation, all branches, in creation order (keyset paging on created_at, id). */
  async messages(
    principal: Principal,
    id: string,
    query: PageQuery,
  ): Promise<{ items: ConversationMessageView[]; nextCursor: string | null }> {
    await this.access.require(principal, id, 'read');
    const limit = query.limit ?? 50;
    const cursor = decodeCursor(query.cursor);
    const qb = this.db
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.conversation_id = :id', { id })
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('m.id', 'ASC')
      .limit(limit + 1);
    if (cursor) {
      qb.andWhere('(m.created_at > :at OR (m.created_at = :at AND m.id > :after))', {
        at: new Date(cursor.at),
        after: cursor.id,
      });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: await this.withFeedback(principal.userId, items),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
    };
  }

  /** The messages as the caller sees them: each with the caller's own feedback. */
  async withFeedback(userId: string, messages: MessageEntity[]): Promise<ConversationMessageView[]> {
    const feedback =
      messages.length === 0
        ? []
        : await this.db
            .getRepository(MessageFeedbackEntity)
            .findBy({ userId, messageId: In(messages.map((m) => m.id)) });
    const byMessage = new Map(feedback.map((f) => [f.messageId, toFeedbackView(f)]));
    return messages.map((message) => ({ ...toMessageView(message), feedback: byMessage.get(message.id) ?? null }));
  }

  /** The messages from the root to the conversation's current leaf, oldest first. */
  async currentBranch(conversation: ConversationEntity): Promise<MessageEntity[]> {
    if (!conversation.currentMessageId) return [];
    return repositoriesFor(this.db.manager).messages.loadBranch(conversation.id, conversation.currentMessageId);
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
