import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import { DEFAULT_CONVERSATION_TITLE } from '#libs/chat/turn-rows';
import type { Database } from '#libs/db/database';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { ConversationChanges } from '#libs/db/repositories/conversation.repository';
import { NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { ConversationAccess } from '../access/conversation-access';
import { effectivePermission } from '../access/conversation-permission';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { PageQuery } from '../common/page.query';
import { DATABASE } from '../infra/di-symbols';
import { OfferedTools, storedTools } from '../tools/offered-tools';
import { requireServedModel } from '../models/served-model';
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

const UPDATABLE = ['title', 'archived', 'model', 'systemPrompt', 'tools', 'currentMessageId'] as const;
const OWNER_ONLY: ReadonlySet<(typeof UPDATABLE)[number]> = new Set(['archived', 'model', 'systemPrompt', 'tools']);

@Injectable()
export class ConversationsService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly audit: AuditWriter,
    private readonly access: ConversationAccess,
    private readonly models: ModelCatalog,
    private readonly offeredTools: OfferedTools,
  ) {}

  async create(principal: Principal, dto: CreateConversationDto): Promise<ConversationView> {
    if (dto.model !== undefined) requireServedModel(this.models, dto.model);
    if (dto.tools !== undefined) await this.offeredTools.require(principal.userId, dto.tools, 'tools');
    const conversation = await this.db.conversations.create({
      id: randomUUID(),
      ownerId: principal.userId,
      title: dto.title?.trim() || DEFAULT_CONVERSATION_TITLE,
      model: dto.model ?? null,
      systemPrompt: dto.systemPrompt ?? null,
      tools: storedTools(dto.tools),
      currentMessageId: null,
      archivedAt: null,
    });
    return toConversationView(conversation, 'owner');
  }

  /**
   * The caller's own conversations and those shared with them, most recently active first. Archived ones (archived by
   * their owner) only with `archived: true`; `q` is a case-insensitive part of the title.
   */
  async list(
    principal: Principal,
    query: ListConversationsQuery,
  ): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const rows = await this.db.conversations.listForUser(
      principal.userId,
      {
        archived: query.archived ?? false,
        titlePart: query.q?.trim() || undefined,
        after: cursor ? { at: new Date(cursor.at), id: cursor.id } : undefined,
      },
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const shares = await this.db.conversations.sharesOf(
      principal.userId,
      items.filter((c) => c.ownerId !== principal.userId).map((c) => c.id),
    );
    const shareOf = new Map(shares.map((share) => [share.conversationId, share]));
    const last = items.at(-1);
    return {
      items: items.map((c) =>
        toConversationView(c, effectivePermission(c, principal.userId, shareOf.get(c.id)) ?? 'read'),
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
   * `model`, `systemPrompt` and `tools` the owner; a body naming both needs the owner.
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
      const { conversation, permission } = await this.access.require(principal, id, need, { tx, lock: true });
      const changes: ConversationChanges = {};
      if (dto.title !== undefined) changes.title = dto.title.trim();
      if (dto.archived !== undefined)
        changes.archivedAt = dto.archived ? (conversation.archivedAt ?? new Date()) : null;
      if (dto.model !== undefined) changes.model = dto.model;
      if (dto.systemPrompt !== undefined) changes.systemPrompt = dto.systemPrompt;
      if (dto.tools !== undefined) {
        // The owner's MCP servers are theirs: checked in the transaction, against the owner (only they may set it).
        if (dto.tools) await this.offeredTools.require(principal.userId, dto.tools, 'tools', tx);
        changes.tools = storedTools(dto.tools);
      }
      if (dto.currentMessageId !== undefined) {
        const messageId = dto.currentMessageId.toLowerCase();
        if (!(await tx.messages.existsInConversation(messageId, id))) throw new NotFoundError('The message');
        changes.currentMessageId = messageId;
      }
      const updated = await tx.conversations.update(id, changes);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.updated',
          targetType: 'conversation',
          targetId: id,
          metadata: { fields },
          ...client,
        },
        tx,
      );
      return toConversationView(updated, permission);
    });
  }

  /** Every message of the conversation, all branches, in creation order (keyset paging on created_at, id). */
  async listMessages(
    principal: Principal,
    id: string,
    query: PageQuery,
  ): Promise<{ items: ConversationMessageView[]; nextCursor: string | null }> {
    await this.access.require(principal, id, 'read');
    const limit = query.limit ?? 50;
    const cursor = decodeCursor(query.cursor);
    const rows = await this.db.messages.listPage(
      id,
      cursor ? { at: new Date(cursor.at), id: cursor.id } : undefined,
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: await this.withFeedback(principal.userId, items),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
    };
  }

  async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.access.require(principal, id, 'owner', { tx, lock: true });
      await tx.conversations.delete(id);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.deleted',
          targetType: 'conversation',
          targetId: id,
          ...client,
        },
        tx,
      );
    });
  }

  /** The messages as the caller sees them: each with the caller's own feedback. */
  private async withFeedback(userId: string, messages: MessageEntity[]): Promise<ConversationMessageView[]> {
    const feedback = await this.db.messages.feedbackOf(
      userId,
      messages.map((m) => m.id),
    );
    const byMessage = new Map(feedback.map((f) => [f.messageId, toFeedbackView(f)]));
    return messages.map((message) => ({ ...toMessageView(message), feedback: byMessage.get(message.id) ?? null }));
  }

  /** The messages from the root to the conversation's current leaf, oldest first. */
  private async currentBranch(conversation: ConversationEntity): Promise<MessageEntity[]> {
    if (!conversation.currentMessageId) return [];
    return this.db.messages.loadBranch(conversation.id, conversation.currentMessageId);
  }
}
