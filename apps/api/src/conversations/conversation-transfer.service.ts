import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import { buildExport, ConversationExport, toMarkdown, treeProblems } from '#libs/chat/conversation-export';
import type { Database } from '#libs/db/database';
import type { NewMessage } from '#libs/db/repositories/message.repository';
import { ValidationError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { ConversationAccess } from '../access/conversation-access';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { DATABASE } from '../infra/di-symbols';
import { OfferedTools, storedTools } from '../tools/offered-tools';
import { ConversationView, toConversationView } from './conversation.view';
import type { ImportConversationDto } from './dto/import-conversation.dto';

export interface ExportFile {
  filename: string;
  contentType: string;
  body: string;
}

/** Export (JSON with every branch, or the current branch as Markdown) and import of whole conversations. */
@Injectable()
export class ConversationTransferService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly audit: AuditWriter,
    private readonly access: ConversationAccess,
    private readonly models: ModelCatalog,
    private readonly offeredTools: OfferedTools,
  ) {}

  /** Anyone who may read the conversation may export it. */
  async export(principal: Principal, id: string, format: 'json' | 'md'): Promise<ExportFile> {
    const { conversation } = await this.access.require(principal, id, 'read');
    if (format === 'md') {
      const branch = conversation.currentMessageId
        ? await this.db.messages.loadBranch(id, conversation.currentMessageId)
        : [];
      return {
        filename: `conversation-${id}.md`,
        contentType: 'text/markdown; charset=utf-8',
        body: toMarkdown(conversation, branch),
      };
    }
    const file: ConversationExport = buildExport(conversation, await this.db.messages.listAll(id), new Date());
    return {
      filename: `conversation-${id}.json`,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(file, null, 2),
    };
  }

  /**
   * A new conversation owned by the caller, with new ids for it and every message (parent links and the current
   * branch mapped onto them) and the messages' own creation times. New ids are handed out in ascending order along
   * the file's creation order, so messages created in the same millisecond keep their order.
   */
  async import(principal: Principal, dto: ImportConversationDto, client: ClientInfo): Promise<ConversationView> {
    // Like create and PATCH: a conversation whose model nobody serves here could never be answered.
    if (dto.conversation.model && !this.models.has(dto.conversation.model)) {
      throw new ValidationError([
        {
          field: 'conversation.model',
          message: 'is not served here; GET /api/v1/models lists the models (or omit it)',
        },
      ]);
    }
    const problems = treeProblems(dto.messages, dto.conversation.currentMessageId);
    if (problems.length > 0) throw new ValidationError(problems, 'The messages do not form a conversation tree');
    const ordered = dto.messages
      .map((message) => ({ message, at: new Date(message.createdAt) }))
      .sort((a, b) => a.at.getTime() - b.at.getTime() || compare(a.message.id, b.message.id));
    const newIds = ordered.map(() => randomUUID()).sort();
    const idMap = new Map(ordered.map(({ message }, i) => [message.id.toLowerCase(), newIds[i]!]));
    const mapped = (oldId: string | null): string | null => (oldId === null ? null : idMap.get(oldId.toLowerCase())!);
    const conversationId = randomUUID();
    const created = await this.db.transaction(async (tx) => {
      const conversation = await tx.conversations.create({
        id: conversationId,
        ownerId: principal.userId,
        title: dto.conversation.title.trim(),
        model: dto.conversation.model,
        systemPrompt: dto.conversation.systemPrompt,
        tools: storedTools(await this.offeredTools.keepOffered(principal.userId, dto.conversation.tools ?? [], tx)),
        currentMessageId: mapped(dto.conversation.currentMessageId),
        archivedAt: dto.conversation.archived ? new Date() : null,
      });
      const messages: NewMessage[] = ordered.map(({ message, at }) => ({
        id: mapped(message.id)!,
        conversationId,
        parentId: mapped(message.parentId),
        role: message.role,
        content: message.content,
        status: message.status,
        model: message.model,
        turnId: null,
        citations: message.citations.map((c) => ({ ...c })),
        usage: message.usage ? { ...message.usage } : null,
        createdAt: at,
      }));
      await tx.messages.insertMany(messages);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.imported',
          targetType: 'conversation',
          targetId: conversationId,
          metadata: { messages: messages.length },
          ...client,
        },
        tx,
      );
      return conversation;
    });
    return toConversationView(created, 'owner');
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
