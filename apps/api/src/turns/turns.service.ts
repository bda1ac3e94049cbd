import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { In } from 'typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '#libs/config/app-config';
import type { ChatTurnInput, PersistedAssistantMessage } from '#libs/contracts/chat-turn.contract';
import { TURN_CANCELLED, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { MessageEntity } from '#libs/db/entities/message.entity';
import { FileEntity } from '#libs/db/entities/file.entity';
import { TurnEntity } from '#libs/db/entities/turn.entity';
import type { TurnOptions } from '#libs/db/entities/turn.entity';
import { AppError, NotFoundError, ServiceUnavailableError, TurnError, ValidationError } from '#libs/errors/app-error';
import { TurnEventHub } from '#libs/events/turn-event-hub';
import { followTurnEvents, FollowResult, TurnEventTarget } from '#libs/events/turn-event-follower';
import { TurnEventLog } from '#libs/events/turn-event-log';
import { streamTurnEvents, TurnOutcome } from '#libs/events/turn-event-stream';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { requireServedModel } from '../models/served-model';
import type { Logger } from '#libs/logging/logger';
import { ConversationAccess } from '../access/conversation-access';
import { isDuplicateKey } from '#libs/db/database-errors';
import type { Principal } from '../auth/principal';
import { MessageView, toMessageView } from '../conversations/conversation.view';
import { insertRegeneratedTurnRows, insertTurnRows } from '#libs/chat/turn-rows';
import { APP_CONFIG, DATA_SOURCE, LOGGER } from '../infra/di-symbols';
import type { SendMessageDto } from './dto/send-message.dto';
import { TurnAlreadyClosedError, TurnFailedError, TurnRunner } from './turn-runner';
import { TurnAnswer, TurnView, toTurnView } from './turn.view';

export interface SendOptions {
  idempotencyKey?: string;
  requestId: string;
}

/**
 * What a new turn answers: a new user message (`POST /conversations/:id/messages`, and `PATCH /messages/:id`, which
 * sends the edited text as a sibling of the original) or an existing user message again (regenerate).
 */
export type TurnRequest =
  | {
      kind: 'message';
      conversationId: string;
      content: string;
      /** The message to answer: undefined for the end of the current branch, null for a new root. */
      parentMessageId?: string | null;
      model?: string;
      /** The user message this one edits (it only tells the request apart for Idempotency-Key). */
      editOf?: string;
      /** Search the web too; restrict retrieval to these files of the sender. */
      webSearch?: boolean;
      fileIds?: string[];
    }
  | { kind: 'regenerate'; conversationId: string; userMessageId: string; model?: string };

interface CreatedTurn {
  turn: TurnEntity;
  userMessage: MessageEntity;
  /** False when an earlier request with the same Idempotency-Key created it. */
  isNew: boolean;
}

@Injectable()
export class TurnsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: TurnRunner,
    private readonly access: ConversationAccess,
    private readonly eventLog: TurnEventLog,
    private readonly eventHub: TurnEventHub,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly models: ModelCatalog,
  ) {}

  /** `Prefer: respond-async`: saves and starts the turn, answers at once. */
  sendAsync(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: SendOptions,
  ): Promise<TurnView> {
    return this.runAsync(principal, messageRequest(conversationId, dto), options);
  }

  /** Any turn request (send, edit, regenerate), answered when the reply is persisted. */
  async runAndWait(principal: Principal, request: TurnRequest, options: SendOptions): Promise<TurnAnswer> {
    const { turn, userMessage } = await this.createTurn(principal, request, options);
    const answer = await this.awaitAnswer(turn);
    return {
      turnId: turn.id,
      userMessage: toMessageView(userMessage),
      assistantMessage: answer,
      citations: answer.citations,
    };
  }

  /** Any turn request, started and answered at once (`Prefer: respond-async`). */
  async runAsync(principal: Principal, request: TurnRequest, options: SendOptions): Promise<TurnView> {
    const { turn, isNew } = await this.createTurn(principal, request, options);
    if (isNew || turn.status === 'queued') await this.runner.start(this.inputOf(turn), 'chat');
    return toTurnView(turn);
  }

  /** Any turn request, started like `runAsync`, then its events streamed (`Accept: text/event-stream`). */
  async runStreaming(
    principal: Principal,
    request: TurnRequest,
    options: SendOptions,
    res: ServerResponse,
  ): Promise<void> {
    const { turn, isNew } = await this.createTurn(principal, request, options);
    if (isNew || turn.status === 'queued') await this.runner.start(this.inputOf(turn), 'chat');
    res.setHeader('Location', `/api/v1/turns/${turn.id}`);
    await this.streamEvents(turn.id, '0', res);
  }

  /** `GET /turns/:id/events`: readable by whoever may read the turn's conversation (404 otherwise). */
  async events(principal: Principal, turnId: string, afterId: string, res: ServerResponse): Promise<void> {
    await this.requireReadableTurn(principal, turnId);
    await this.streamEvents(turnId, afterId, res);
  }

  /**
   * The WebSocket form of `events`: follows the turn's events into `target` until its final event or until `signal`
   * stops it (never the turn). Checks access first: `NotFoundError` when the caller may not read the conversation.
   */
  async follow(
    principal: Principal,
    turnId: string,
    afterId: string,
    target: TurnEventTarget,
    signal: AbortSignal,
  ): Promise<FollowResult> {
    await this.requireReadableTurn(principal, turnId);
    return followTurnEvents({
      hub: this.eventHub,
      log: this.eventLog,
      turnId,
      afterId,
      target,
      signal,
      logger: this.logger,
      outcome: () => this.outcomeOf(turnId),
    });
  }

  /**
   * Readable by whoever may read the turn's conversation (the owner and every sharee); `NotFoundError` for anyone
   * else. Public so the WebSocket gateway can re-check open subscriptions (shares can be revoked).
   */
  async requireReadableTurn(principal: Principal, turnId: string): Promise<void> {
    const turn = await this.db.getRepository(TurnEntity).findOneBy({ id: turnId });
    if (!turn || !(await this.access.find(principal, turn.conversationId))) throw new NotFoundError('The turn');
  }

  private async streamEvents(turnId: string, afterId: string, res: ServerResponse): Promise<void> {
    try {
      await streamTurnEvents({
        res,
        hub: this.eventHub,
        events: this.eventLog,
        turnId,
        afterId,
        logger: this.logger,
        outcome: () => this.outcomeOf(turnId),
      });
    } catch (error) {
      if (res.headersSent) return;
      this.logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
      throw new ServiceUnavailableError('Live turn events are unavailable right now; try again');
    }
  }

  /** The turn's final event, rebuilt from the database, for a stream that expired or was never fed. */
  private async outcomeOf(turnId: string): Promise<TurnOutcome> {
    const turn = await this.db.getRepository(TurnEntity).findOneBy({ id: turnId });
    if (!turn || turn.status === 'queued' || turn.status === 'running') return { ended: false };
    if (turn.status === 'completed') {
      const message = await this.db.getRepository(MessageEntity).findOneBy({ id: turn.assistantMessageId });
      if (!message) return { ended: false };
      return {
        ended: true,
        terminal: { event: 'message.completed', data: { assistantMessage: toMessageView(message) } },
      };
    }
    if (turn.status === 'cancelled') {
      // As the live event: the partial answer kept when the user cancelled, or null when nothing was generated.
      const partial = await this.db.getRepository(MessageEntity).findOneBy({ id: turn.assistantMessageId });
      return {
        ended: true,
        terminal: {
          event: 'turn.cancelled',
          data: { turnId: turn.id, assistantMessage: partial ? toMessageView(partial) : null },
        },
      };
    }
    return {
      ended: true,
      terminal: {
        event: 'turn.failed',
        data: { code: turn.errorCode ?? 'turn_failed', detail: turn.errorDetail ?? 'The turn failed' },
      },
    };
  }

  async get(principal: Principal, turnId: string): Promise<TurnView> {
    // Readable by whoever may read its conversation (the owner and every sharee), not only by who sent it.
    const turn = await this.db.getRepository(TurnEntity).findOneBy({ id: turnId });
    if (!turn || !(await this.access.find(principal, turn.conversationId))) throw new NotFoundError('The turn');
    if (turn.status !== 'queued' && turn.status !== 'running') return toTurnView(turn);
    const live = await this.runner.progress(turn.id);
    if (live && live.status !== 'running') {
      // The turn ended between the read and the query: its row now holds the outcome.
      return toTurnView(await this.db.getRepository(TurnEntity).findOneByOrFail({ id: turn.id }));
    }
    return toTurnView(turn, live);
  }

  private async awaitAnswer(turn: TurnEntity): Promise<MessageView> {
    if (turn.status === 'completed') return this.persistedAnswer(turn);
    if (turn.status === 'failed' || turn.status === 'cancelled') throw failureOf(turn);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TurnError('turn_timeout',
              'The answer is taking longer than this request may wait; follow the turn',
              {
                turnId: turn.id,
                turnUrl: `/api/v1/turns/${turn.id}`,
              },
            ),
          ),
        this.config.api.syncTurnTimeoutMs,
      );
    });
    try {
      const answer = await Promise.race([this.runner.runAndWait(this.inputOf(turn), 'chat'), timeout]);
      return fromPersisted(answer, turn);
    } catch (error) {
      if (error instanceof TurnAlreadyClosedError) {
        const fresh = await this.db.getRepository(TurnEntity).findOneByOrFail({ id: turn.id });
        if (fresh.status === 'completed') return this.persistedAnswer(fresh);
        throw failureOf(fresh);
      }
      if (error instanceof TurnFailedError) throw failureFromType(turn.id, error.type, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async persistedAnswer(turn: TurnEntity): Promise<MessageView> {
    const message = await this.db.getRepository(MessageEntity).findOneBy({ id: turn.assistantMessageId });
    if (!message)
      throw new TurnError('turn_failed', 'The turn completed but its answer is missing', { turnId: turn.id });
    return toMessageView(message);
  }

  private async createTurn(principal: Principal, request: TurnRequest, options: SendOptions): Promise<CreatedTurn> {
    const { conversationId } = request;
    const requestHash = createHash('sha256')
      .update(JSON.stringify(hashedParts(request)))
      .digest('hex');
    // Checked before an Idempotency-Key replay too: a sharee whose share was revoked gets nothing back.
    await this.access.require(principal, conversationId, 'write');
    if (options.idempotencyKey) {
      const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
      if (existing) return existing;
    }
    try {
      return await this.db.transaction(async (tx) => {
        // Turns of one conversation are created one at a time: the branch they extend is read under this lock. The
        // owner or a `write` sharee may send; the turn is the sender's own (turn.userId).
        const { conversation } = await this.access.require(principal, conversationId, 'write', {
          manager: tx,
          lock: true,
        });
        // A model nobody serves (asked for, or the conversation's and no longer configured) is refused up front.
        const model = request.model ?? conversation.model;
        if (model !== null) {
          requireServedModel(
            this.models,
            model,
            request.model === undefined ? "the conversation's model is no longer served" : 'is not served',
          );
        }
        if (request.kind === 'regenerate') {
          const userMessage = await tx
            .getRepository(MessageEntity)
            .findOneBy({ id: request.userMessageId, conversationId, role: 'user' });
          if (!userMessage) throw new NotFoundError('The message');
          const turn = await insertRegeneratedTurnRows(tx, {
            conversation,
            userMessage,
            userId: principal.userId,
            model: request.model ?? conversation.model,
            idempotencyKey: options.idempotencyKey ?? null,
            requestHash,
            requestId: options.requestId,
          });
          return { turn, userMessage, isNew: true };
        }
        const parentId =
          request.parentMessageId === undefined
            ? conversation.currentMessageId
            : (request.parentMessageId?.toLowerCase() ?? null);
        if (parentId !== null && request.parentMessageId !== undefined) {
          const parent = await tx.getRepository(MessageEntity).exists({ where: { id: parentId, conversationId } });
          if (!parent) throw new NotFoundError('The parent message');
        }
        if (request.fileIds && request.fileIds.length > 0) await requireOwnFiles(tx, principal.userId, request.fileIds);
        const { turn, userMessage } = await insertTurnRows(tx, {
          conversation,
          userId: principal.userId,
          parentId,
          content: request.content,
          model: request.model ?? conversation.model,
          options: turnOptionsOf(request),
          idempotencyKey: options.idempotencyKey ?? null,
          requestHash,
          requestId: options.requestId,
        });
        return { turn, userMessage, isNew: true };
      });
    } catch (error) {
      // Two requests with the same Idempotency-Key raced: the loser answers with the winner's turn.
      if (options.idempotencyKey && isDuplicateKey(error)) {
        const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
        if (existing) return existing;
      }
      throw error;
    }
  }

  private async findByIdempotencyKey(
    principal: Principal,
    key: string,
    requestHash: string,
  ): Promise<CreatedTurn | undefined> {
    const turn = await this.db.getRepository(TurnEntity).findOneBy({ userId: principal.userId, idempotencyKey: key });
    if (!turn) return undefined;
    if (turn.requestHash !== requestHash) {
      throw new TurnError('idempotency_key_reused',
        'This Idempotency-Key was already used for a different request',
      );
    }
    const userMessage = await this.db.getRepository(MessageEntity).findOneByOrFail({ id: turn.userMessageId });
    return { turn, userMessage, isNew: false };
  }

  private inputOf(turn: TurnEntity): ChatTurnInput {
    return {
      turnId: turn.id,
      userId: turn.userId,
      conversationId: turn.conversationId,
      userMessageId: turn.userMessageId,
      assistantMessageId: turn.assistantMessageId,
      ...(turn.model ? { model: turn.model } : {}),
      requestId: turn.requestId,
      ...(turn.options?.webSearch ? { webSearch: true } : {}),
      ...(turn.options?.fileIds?.length ? { fileIds: turn.options.fileIds } : {}),
    };
  }
}

function turnOptionsOf(request: TurnRequest): TurnOptions | null {
  if (request.kind !== 'message' || (!request.webSearch && !request.fileIds?.length)) return null;
  return {
    ...(request.webSearch ? { webSearch: true } : {}),
    ...(request.fileIds?.length ? { fileIds: request.fileIds } : {}),
  };
}

/** `fileIds` must name the sender's own files (any status); another user's file is as unknown as a missing one. */
async function requireOwnFiles(tx: EntityManager, userId: string, fileIds: string[]): Promise<void> {
  const found = await tx.getRepository(FileEntity).count({ where: { userId, id: In(fileIds) } });
  if (found !== fileIds.length) {
    throw new ValidationError([{ field: 'fileIds', message: 'must name files you uploaded' }]);
  }
}

/** The turn request of `POST /conversations/:id/messages`. */
export function messageRequest(conversationId: string, dto: SendMessageDto): TurnRequest {
  return {
    kind: 'message',
    conversationId,
    content: dto.content,
    ...(dto.parentMessageId !== undefined ? { parentMessageId: dto.parentMessageId } : {}),
    ...(dto.model !== undefined ? { model: dto.model } : {}),
    ...(dto.webSearch ? { webSearch: true } : {}),
    ...(dto.fileIds?.length ? { fileIds: [...new Set(dto.fileIds.map((id) => id.toLowerCase()))] } : {}),
  };
}

/** What an Idempotency-Key is bound to; a plain send hashes exactly as it always did. */
function hashedParts(request: TurnRequest): unknown[] {
  if (request.kind === 'regenerate') {
    return ['regenerate', request.conversationId, request.userMessageId, request.model ?? null];
  }
  const parts: unknown[] = [
    request.conversationId,
    request.content,
    request.parentMessageId ?? null,
    request.model ?? null,
  ];
  // Appended only when given, so a plain send binds its Idempotency-Key exactly as before.
  if (request.webSearch || request.fileIds?.length)
    parts.push({ webSearch: !!request.webSearch, fileIds: request.fileIds ?? [] });
  return request.editOf ? ['edit', request.editOf, ...parts] : parts;
}

function fromPersisted(answer: PersistedAssistantMessage, turn: TurnEntity): MessageView {
  return { ...answer, parentId: answer.parentId, turnId: turn.id };
}

function failureOf(turn: TurnEntity): AppError {
  if (turn.status === 'cancelled')
    return new TurnError('turn_cancelled', 'The turn was cancelled before any of the answer was generated', {
      turnId: turn.id,
    });
  return failureFromType(turn.id, turn.errorCode ?? 'turn_failed', turn.errorDetail ?? 'The turn failed');
}

function failureFromType(turnId: string, type: string, detail: string): AppError {
  if (type.startsWith('llm_')) {
    return new TurnError('upstream_unavailable', `The language model could not answer: ${detail}`, {
      turnId,
      reason: type,
    });
  }
  if (type === TURN_FAILURE_TYPES.contextNotFound) return new NotFoundError('The conversation');
  if (type === TURN_CANCELLED)
    return new TurnError('turn_cancelled', 'The turn was cancelled before any of the answer was generated', {
      turnId,
    });
  return new TurnError('turn_failed', detail, { turnId, reason: type });
}
