import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ConversationEntity } from '../../../../libs/db/entities/conversation.entity';
import { MessageEntity } from '../../../../libs/db/entities/message.entity';
import { NotFoundError } from '../../../../libs/errors/app-error';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATA_SOURCE } from '../infra/tokens';
import { ConversationView, MessageView, toConversationView, toMessageView } from './conversation.view';
import type { CreateConversationDto } from './dto/create-conversation.dto';

export const DEFAULT_TITLE = 'New conversation';

@Injectable()
export class ConversationsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly audit: AuditService,
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
    return toConversationView(await repo.findOneByOrFail({ id }));
  }

  async list(
    principal: Principal,
    query: { cursor?: string; limit?: number },
  ): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const qb = this.db
      .getRepository(ConversationEntity)
      .createQueryBuilder('c')
      .where('c.owner_id = :owner', { owner: principal.userId })
      .orderBy('c.updated_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .take(limit + 1);
    if (cursor) {
      qb.andWhere('(c.updated_at < :at OR (c.updated_at = :at AND c.id < :id))', {
        at: new Date(cursor.at),
        id: cursor.id,
      });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toConversationView),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.updatedAt.toISOString(), id: last.id }) : null,
    };
  }

  /** The conversation, if the caller owns it; otherwise 404, so existence does not leak. */
  async getOwned(principal: Principal, id: string): Promise<ConversationEntity> {
    const conversation = await this.db.getRepository(ConversationEntity).findOneBy({ id, ownerId: principal.userId });
    if (!conversation) throw new NotFoundError('The conversation');
    return conversation;
  }

  async get(principal: Principal, id: string): Promise<ConversationView & { messages: MessageView[] }> {
    const conversation = await this.getOwned(principal, id);
    const messages = await this.currentBranch(conversation);
    return { ...toConversationView(conversation), messages: messages.map(toMessageView) };
  }

  /** The messages from the root to the conversation's current leaf, oldest first. */
  async currentBranch(conversation: ConversationEntity): Promise<MessageEntity[]> {
    if (!conversation.currentMessageId) return [];
    const rows = await this.db.getRepository(MessageEntity).findBy({ conversationId: conversation.id });
    const byId = new Map(rows.map((row) => [row.id, row]));
    const branch: MessageEntity[] = [];
    const seen = new Set<string>();
    for (let id: string | null = conversation.currentMessageId; id && !seen.has(id);) {
      seen.add(id);
      const row = byId.get(id);
      if (!row) break;
      branch.unshift(row);
      id = row.parentId;
    }
    return branch;
  }

  async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      const result = await tx.getRepository(ConversationEntity).delete({ id, ownerId: principal.userId });
      if (result.affected !== 1) throw new NotFoundError('The conversation');
      await this.audit.record(
        { actorId: principal.userId, action: 'conversation.deleted', targetType: 'conversation', targetId: id },
        client,
        tx,
      );
    });
  }
}
