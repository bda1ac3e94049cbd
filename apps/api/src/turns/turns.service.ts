import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../../../libs/config/app-config';
import type { ChatTurnInput, PersistedAssistantMessage } from '../../../../libs/contracts/chat-turn.contract';
import { MessageEntity } from '../../../../libs/db/entities/message.entity';
import { TurnEntity } from '../../../../libs/db/entities/turn.entity';
import { AppError, NotFoundError } from '../../../../libs/errors/app-error';
import { TurnEventLog } from '../../../../libs/events/turn-event-log';
import { streamTurnEvents, TurnOutcome } from '../../../../libs/events/turn-event-stream';
import type { Logger } from '../../../../libs/logging/logger';
import { ConversationAccess } from '../access/conversation-access';
import { isDuplicateKey } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { MessageView, toMessageView } from '../conversations/conversation.view';
import { insertTurnRows } from '../../../../libs/chat/turn-rows';
import { APP_CONFIG, DATA_SOURCE, LOGGER } from '../infra/tokens';
import type { SendMessageDto } from './dto/send-message.dto';
import { TurnAlreadyClosedError, TurnFailedError, TurnRunner } from './turn-runner';
import { TurnAnswer, TurnView, toTurnView } from './turn.view';

export interface SendOptions {
  idempotencyKey?: string;
  requestId: string;
}

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
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Saves the user's message and the turn first (nothing the user wrote is lost), then runs the workflow and waits. */
  async sendAndWait(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: SendOptions,
  ): Promise<TurnAnswer> {
    const { turn, userMessage } = await this.createTurn(principal, conversationId, dto, options);
    const answer = await this.awaitAnswer(turn);
    return {
      turnId: turn.id,
      userMessage: toMessageView(userMessage),
      assistantMessage: answer,
      citations: answer.citations,
    };
  }

  /** `Prefer: respond-async`: saves and starts the turn, answers at once. */
  async sendAsync(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: SendOptions,
  ): Promise<TurnView> {
    const { turn, isNew } = await this.createTurn(principal, conversationId, dto, options);
    if (isNew || turn.status === 'queued') await this.runner.start(this.inputOf(turn), 'chat');
    return toTurnView(turn);
  }

  /** `Accept: text/event-stream`: saves and starts the turn like `sendAsync`, then streams its events. */
  async sendStreaming(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: SendOptions,
    res: ServerResponse,
  ): Promise<void> {
    const { turn, isNew } = await this.createTurn(principal, conversationId, dto, options);
    if (isNew || turn.status === 'queued') await this.runner.start(this.inputOf(turn), 'chat');
    res.setHeader('Location', `/api/v1/turns/${turn.id}`);
    await this.streamEvents(turn.id, '0', res);
  }

  /** `GET /turns/:id/events`: readable by whoever may read the turn's conversation (404 otherwise). */
  async events(principal: Principal, turnId: string, afterId: string, res: ServerResponse): Promise<void> {
    const turn = await this.db.getRepository(TurnEntity).findOneBy({ id: turnId });
    if (!turn || !(await this.access.find(principal, turn.conversationId))) throw new NotFoundError('The turn');
    await this.streamEvents(turn.id, afterId, res);
  }

  private async streamEvents(turnId: string, afterId: string, res: ServerResponse): Promise<void> {
    try {
      await streamTurnEvents({
        res,
        events: this.eventLog,
        turnId,
        afterId,
        logger: this.logger,
        outcome: () => this.outcomeOf(turnId),
      });
    } catch (error) {
      if (res.headersSent) return;
      this.logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
      throw new AppError('upstream_unavailable', 503, 'Live turn events are unavailable right now; try again');
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
    if (turn.status === 'cancelled') return { ended: true, terminal: { event: 'turn.cancelled', data: {} } };
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
            new AppError(
              'turn_timeout',
              504,
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
      throw new AppError('turn_failed', 502, 'The turn completed but its answer is missing', { turnId: turn.id });
    return toMessageView(message);
  }

  private async createTurn(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: SendOptions,
  ): Promise<CreatedTurn> {
    const requestHash = createHash('sha256')
      .update(JSON.stringify([conversationId, dto.content, dto.parentMessageId ?? null, dto.model ?? null]))
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
        const parentId = dto.parentMessageId?.toLowerCase() ?? conversation.currentMessageId;
        if (dto.parentMessageId) {
          const parent = await tx.getRepository(MessageEntity).exists({ where: { id: parentId!, conversationId } });
          if (!parent) throw new NotFoundError('The parent message');
        }
        const { turn, userMessage } = await insertTurnRows(tx, {
          conversation,
          userId: principal.userId,
          parentId,
          content: dto.content,
          model: dto.model ?? conversation.model,
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
      throw new AppError(
        'idempotency_key_reused',
        422,
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
    };
  }
}

function fromPersisted(answer: PersistedAssistantMessage, turn: TurnEntity): MessageView {
  return { ...answer, parentId: answer.parentId, turnId: turn.id };
}

function failureOf(turn: TurnEntity): AppError {
  if (turn.status === 'cancelled')
    return new AppError('turn_failed', 409, 'The turn was cancelled', { turnId: turn.id });
  return failureFromType(turn.id, turn.errorCode ?? 'turn_failed', turn.errorDetail ?? 'The turn failed');
}

function failureFromType(turnId: string, type: string, detail: string): AppError {
  if (type.startsWith('llm_')) {
    return new AppError('upstream_unavailable', 502, `The language model could not answer: ${detail}`, {
      turnId,
      reason: type,
    });
  }
  if (type === 'ContextNotFound') return new NotFoundError('The conversation');
  return new AppError('turn_failed', 502, detail, { turnId, reason: type });
}
