import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { isDuplicateKey } from '#libs/db/database-errors';
import type { Database } from '#libs/db/database';
import type { NewMessage } from '#libs/db/repositories/message.repository';
import { ValidationError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import type { Principal } from '../auth/principal';
import { DATABASE } from '../infra/di-symbols';
import { requireServedModel } from '../models/served-model';
import type { TurnRequest } from '../turns/turn-request';
import { type CompletionMessageDto, type ChatCompletionRequestDto, contentText } from './dto/chat-completion.dto';

const TITLE_CHARS = 80;
const MAX_SYSTEM_PROMPT = 20_000;

/**
 * Turns an OpenAI chat-completions request into a GigaChat turn request. The messages before the last one become a
 * new conversation of the caller (system and developer messages its system prompt, the rest its history), so the
 * answer is a durable turn like any other, stored and visible in the conversation list; with
 * `gigachat.conversationId`, the last message is sent to that conversation instead.
 */
@Injectable()
export class OpenAiChatService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly models: ModelCatalog,
  ) {}

  /**
   * The turn request for `dto`, creating the conversation it needs. With an Idempotency-Key the conversation's id is
   * derived from the caller and the key, so a retried request finds the conversation (and then its turn) again.
   */
  async prepare(principal: Principal, dto: ChatCompletionRequestDto, idempotencyKey?: string): Promise<TurnRequest> {
    requireServedModel(this.models, dto.model);
    const last = dto.messages[dto.messages.length - 1]!;
    const content = contentText(last.content)!;
    if (last.role !== 'user' || !/\S/.test(content)) {
      throw new ValidationError([
        { field: `messages.${dto.messages.length - 1}`, message: 'the last message must be a non-empty user message' },
      ]);
    }
    const options = {
      ...(dto.gigachat?.webSearch ? { webSearch: true } : {}),
      ...(dto.gigachat?.fileIds?.length
        ? { fileIds: [...new Set(dto.gigachat.fileIds.map((id) => id.toLowerCase()))] }
        : {}),
      // As in a send: absent, the conversation's tools (a new conversation has none); `[]`, none this time.
      ...(dto.gigachat?.tools !== undefined ? { tools: [...new Set(dto.gigachat.tools)] } : {}),
    };
    if (dto.gigachat?.conversationId) {
      // Access (write) is checked when the turn is created: another's conversation is a 404 there.
      return {
        kind: 'message',
        conversationId: dto.gigachat.conversationId.toLowerCase(),
        content,
        model: dto.model,
        ...options,
      };
    }
    const conversationId = idempotencyKey ? idempotentId(principal.userId, idempotencyKey) : randomUUID();
    await this.createConversation(principal, conversationId, dto);
    return { kind: 'message', conversationId, content, model: dto.model, ...options };
  }

  private async createConversation(
    principal: Principal,
    conversationId: string,
    dto: ChatCompletionRequestDto,
  ): Promise<void> {
    const history = dto.messages.slice(0, -1);
    const system = history
      .filter((message) => message.role === 'system' || message.role === 'developer')
      .map((message) => contentText(message.content)!)
      .join('\n\n');
    if (system.length > MAX_SYSTEM_PROMPT) {
      throw new ValidationError([
        { field: 'messages', message: `system and developer messages hold at most ${MAX_SYSTEM_PROMPT} characters` },
      ]);
    }
    const turns = history.filter((message) => message.role === 'user' || message.role === 'assistant');
    const firstUser = dto.messages.find((message) => message.role === 'user')!;
    const title = titleOf(contentText(firstUser.content)!);
    // Ascending ids and creation times along the order given, so the branch reads back in that order.
    const start = Date.now() - turns.length;
    const ids = turns.map(() => randomUUID()).sort();
    const messages: NewMessage[] = turns.map((message: CompletionMessageDto, i) => ({
      id: ids[i]!,
      conversationId,
      parentId: i === 0 ? null : ids[i - 1]!,
      role: message.role as 'user' | 'assistant',
      content: contentText(message.content)!,
      status: 'complete',
      model: message.role === 'assistant' ? dto.model : null,
      turnId: null,
      citations: [],
      usage: null,
      createdAt: new Date(start + i),
    }));
    try {
      await this.db.transaction(async (tx) => {
        await tx.conversations.create({
          id: conversationId,
          ownerId: principal.userId,
          title,
          model: dto.model,
          systemPrompt: system || null,
          tools: null,
          currentMessageId: ids.at(-1) ?? null,
          archivedAt: null,
        });
        await tx.messages.insertMany(messages);
      });
    } catch (error) {
      // The same Idempotency-Key again: the conversation exists; its turn is found by the key.
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1)}…`;
}

/** A UUID (version 8, name-based) for the caller's Idempotency-Key: the same pair always names the same conversation. */
function idempotentId(userId: string, key: string): string {
  const hex = createHash('sha256').update(`openai-chat\0${userId}\0${key}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
