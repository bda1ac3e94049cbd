import { Inject, Injectable } from '@nestjs/common';
import { insertRegeneratedTurnRows, insertTurnRows } from '#libs/chat/turn-rows';
import type { AppConfig } from '#libs/config/app-config';
import { CHAT_TURN_VERSION, type ChatTurnInput, TURN_CANCELLED } from '#libs/contracts/chat-turn.contract';
import { type MessageView, toMessageView } from '#libs/contracts/message-view';
import { turnEvents } from '#libs/contracts/turn-events';
import type { Database, Repositories } from '#libs/db/database';
import { isDuplicateKey } from '#libs/db/database-errors';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { TurnEntity, TurnOptions } from '#libs/db/entities/turn.entity';
import { NotFoundError, TurnError, ValidationError } from '#libs/errors/app-error';
import { followTurnEvents, type FollowResult, type TurnEventTarget } from '#libs/events/turn-event-follower';
import { TurnEventHub } from '#libs/events/turn-event-hub';
import { TurnEventLog } from '#libs/events/turn-event-log';
import type { TurnOutcome } from '#libs/events/turn-event-stream';
import { ModelCatalog } from '#libs/llm/provider-registry';
import type { Logger } from '#libs/logging/logger';
import { ConversationAccess } from '../access/conversation-access';
import type { AccessNeed } from '../access/conversation-permission';
import type { Principal } from '../auth/principal';
import { APP_CONFIG, DATABASE, LOGGER } from '../infra/di-symbols';
import { requireServedModel } from '../models/served-model';
import type { SendMessageDto } from './dto/send-message.dto';
import { turnFailureError } from './turn-failure';
import { OfferedTools } from '../tools/offered-tools';
import { messageRequest, requestHashOf, type TurnRequest, type TurnRequestOptions } from './turn-request';
import { TurnAlreadyClosedError, TurnFailedError, TurnRunner } from './turn-runner';
import { type TurnAnswer, type TurnView, toTurnView } from './turn.view';

/** A turn request as saved: the turn and its user message. */
export interface CreatedTurn {
  turn: TurnEntity;
  userMessage: MessageEntity;
  /** False when an earlier request with the same Idempotency-Key created it. */
  isNew: boolean;
}

/** What following a turn's events needs (SSE and WebSocket alike); the transport is the caller's. */
export interface TurnEventSource {
  hub: TurnEventHub;
  events: TurnEventLog;
  logger: Logger;
  /** The turn's end as the database knows it, for a stream that expired or was never fed. */
  outcome: () => Promise<TurnOutcome>;
}

/**
 * Chat turns: saving a request for an answer (the user message and the queued turn, in one transaction, so nothing
 * the user wrote is lost), starting its workflow, waiting for the persisted answer, reading a turn's state and
 * following its events. Returns values and throws domain errors; the HTTP layer (TurnResponder) decides how to answer.
 */
@Injectable()
export class TurnsService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: TurnRunner,
    private readonly access: ConversationAccess,
    private readonly eventLog: TurnEventLog,
    private readonly eventHub: TurnEventHub,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly models: ModelCatalog,
    private readonly offeredTools: OfferedTools,
  ) {}

  /**
   * Saves the request as a new turn, or finds the turn an earlier request with the same Idempotency-Key saved (a key
   * reused for a different request is `422 idempotency_key_reused`). Needs write access to the conversation.
   */
  async create(principal: Principal, request: TurnRequest, options: TurnRequestOptions): Promise<CreatedTurn> {
    const requestHash = requestHashOf(request);
    if (options.idempotencyKey) {
      // Checked before an Idempotency-Key replay too: a sharee whose share was revoked gets nothing back. Without a
      // key, the transaction's locked read of the conversation is the check (one round trip less per send).
      await this.access.require(principal, request.conversationId, 'write');
      const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
      if (existing) return existing;
    }
    try {
      return await this.db.transaction((tx) => this.insert(tx, principal, request, { ...options, requestHash }));
    } catch (error) {
      // Two requests with the same Idempotency-Key raced: the loser answers with the winner's turn.
      if (options.idempotencyKey && isDuplicateKey(error)) {
        const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
        if (existing) return existing;
      }
      throw error;
    }
  }

  /** Starts the turn's workflow unless an earlier request did (starting twice is harmless); answers at once. */
  async start({ turn, isNew }: CreatedTurn): Promise<TurnView> {
    if (isNew || turn.status === 'queued') await this.runner.start(chatTurnInputOf(turn), 'chat');
    return toTurnView(turn);
  }

  /** Runs the turn (start, then its result: no polling) and answers once its reply is persisted. */
  async answer({ turn, userMessage }: CreatedTurn): Promise<TurnAnswer> {
    const assistantMessage = await this.awaitAnswer(turn);
    return {
      turnId: turn.id,
      userMessage: toMessageView(userMessage),
      assistantMessage,
      citations: assistantMessage.citations,
    };
  }

  /** The WebSocket `send`: saves and starts the turn, like `Prefer: respond-async`. */
  async sendAsync(
    principal: Principal,
    conversationId: string,
    dto: SendMessageDto,
    options: TurnRequestOptions,
  ): Promise<TurnView> {
    return this.start(await this.create(principal, messageRequest(conversationId, dto), options));
  }

  async get(principal: Principal, turnId: string): Promise<TurnView> {
    const turn = await this.requireReadableTurn(principal, turnId);
    if (turn.status !== 'queued' && turn.status !== 'running') return toTurnView(turn);
    // The turn's stream tells its steps so far. The workflow is asked only when there is no stream yet (or Redis
    // cannot answer): a running turn is busy in its one workflow task, so a query waits for the task to end, and once
    // the run has ended the worker replays the whole turn to answer it.
    const streamed = await this.eventLog.steps(turn.id).catch(() => undefined);
    if (streamed) return toTurnView(turn, { status: turn.status, steps: streamed });
    const live = await this.runner.progress(turn.id);
    if (live && live.status !== 'running') {
      // The turn ended between the read and the query: its row now holds the outcome.
      return toTurnView((await this.db.turns.findById(turn.id)) ?? turn);
    }
    return toTurnView(turn, live);
  }

  /**
   * The turn, readable by whoever may read its conversation (the owner and every sharee); `NotFoundError` for anyone
   * else. Public so the WebSocket gateway can re-check open subscriptions (shares can be revoked).
   */
  async requireReadableTurn(principal: Principal, turnId: string): Promise<TurnEntity> {
    return this.requireTurn(principal, turnId, 'read');
  }

  /** The turn if the caller holds `need` on its conversation: 404 without any access, 403 when it falls short. */
  async requireTurn(principal: Principal, turnId: string, need: AccessNeed): Promise<TurnEntity> {
    const found = await this.db.turns.findById(turnId);
    return (await this.access.requireItem(principal, found, need, 'The turn')).item;
  }

  /** What a transport needs to follow the turn's events (after checking, with `requireReadableTurn`, who may). */
  eventSource(turnId: string): TurnEventSource {
    return { hub: this.eventHub, events: this.eventLog, logger: this.logger, outcome: () => this.outcomeOf(turnId) };
  }

  /**
   * The WebSocket form of following a turn: its events into `target` until its final event or until `signal` stops
   * it (never the turn). Checks access first: `NotFoundError` when the caller may not read the conversation.
   */
  async follow(
    principal: Principal,
    turnId: string,
    afterId: string,
    target: TurnEventTarget,
    signal: AbortSignal,
  ): Promise<FollowResult> {
    await this.requireReadableTurn(principal, turnId);
    const { hub, events, logger, outcome } = this.eventSource(turnId);
    return followTurnEvents({ hub, log: events, turnId, afterId, target, signal, logger, outcome });
  }

  /** The turn's final event, rebuilt from the database, for a stream that expired or was never fed. */
  private async outcomeOf(turnId: string): Promise<TurnOutcome> {
    const turn = await this.db.turns.findById(turnId);
    if (!turn || turn.status === 'queued' || turn.status === 'running') return { ended: false };
    if (turn.status === 'failed') {
      return {
        ended: true,
        terminal: turnEvents.failed(turn.errorCode ?? 'turn_failed', turn.errorDetail ?? 'The turn failed'),
      };
    }
    const message = await this.db.messages.findById(turn.assistantMessageId);
    if (turn.status === 'completed') {
      return message ? { ended: true, terminal: turnEvents.completed(toMessageView(message)) } : { ended: false };
    }
    // Cancelled: the partial answer kept when the user cancelled, or null when nothing was generated.
    return { ended: true, terminal: turnEvents.cancelled(turn.id, message ? toMessageView(message) : null) };
  }

  private async insert(
    tx: Repositories,
    principal: Principal,
    request: TurnRequest,
    options: TurnRequestOptions & { requestHash: string },
  ): Promise<CreatedTurn> {
    const { conversationId } = request;
    // Turns of one conversation are created one at a time: the branch they extend is read under this lock. The owner
    // or a `write` sharee may send; the turn is the sender's own (turn.userId).
    const { conversation } = await this.access.require(principal, conversationId, 'write', { tx, lock: true });
    // A model nobody serves (asked for, or the conversation's and no longer configured) is refused up front.
    const model = request.model ?? conversation.model;
    if (model !== null) {
      requireServedModel(
        this.models,
        model,
        request.model === undefined ? "the conversation's model is no longer served" : 'is not served',
      );
    }
    // A message's `tools` must all be offered (`[]`: none this time); without them the turn gets the conversation's,
    // less any this deployment or the sender can no longer use (dropped, not refused: the setting outlives them).
    const ownTools = request.kind === 'message' ? request.tools : undefined;
    if (ownTools !== undefined) await this.offeredTools.require(principal.userId, ownTools, 'tools', tx);
    const tools = ownTools ?? (await this.offeredTools.keepOffered(principal.userId, conversation.tools ?? [], tx));
    const rows = {
      conversation,
      userId: principal.userId,
      model,
      idempotencyKey: options.idempotencyKey ?? null,
      requestHash: options.requestHash,
      requestId: options.requestId,
    };
    if (request.kind === 'regenerate') {
      const userMessage = await tx.messages.findInConversation(request.userMessageId, conversationId, 'user');
      if (!userMessage) throw new NotFoundError('The message');
      const turn = await insertRegeneratedTurnRows(tx, { ...rows, userMessage, options: turnOptionsOf({ tools }) });
      return { turn, userMessage, isNew: true };
    }
    const parentId =
      request.parentMessageId === undefined
        ? conversation.currentMessageId
        : (request.parentMessageId?.toLowerCase() ?? null);
    if (parentId !== null && request.parentMessageId !== undefined) {
      if (!(await tx.messages.existsInConversation(parentId, conversationId))) {
        throw new NotFoundError('The parent message');
      }
    }
    // `fileIds` must name the sender's own files (any status); another user's file is as unknown as a missing one.
    if (
      request.fileIds?.length &&
      (await tx.files.countOwned(principal.userId, request.fileIds)) !== request.fileIds.length
    ) {
      throw new ValidationError([{ field: 'fileIds', message: 'must name files you uploaded' }]);
    }
    const { turn, userMessage } = await insertTurnRows(tx, {
      ...rows,
      parentId,
      content: request.content,
      options: turnOptionsOf({ webSearch: request.webSearch, fileIds: request.fileIds, tools }),
    });
    return { turn, userMessage, isNew: true };
  }

  private async findByIdempotencyKey(
    principal: Principal,
    key: string,
    requestHash: string,
  ): Promise<CreatedTurn | undefined> {
    const turn = await this.db.turns.findByIdempotencyKey(principal.userId, key);
    if (!turn) return undefined;
    if (turn.requestHash !== requestHash) {
      throw new TurnError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
    }
    const userMessage = await this.db.messages.findById(turn.userMessageId);
    if (!userMessage) throw new NotFoundError('The message');
    return { turn, userMessage, isNew: false };
  }

  private async awaitAnswer(turn: TurnEntity): Promise<MessageView> {
    if (turn.status !== 'queued' && turn.status !== 'running') return this.endedAnswer(turn);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TurnError('turn_timeout', 'The answer is taking longer than this request may wait; follow the turn', {
              turnId: turn.id,
              turnUrl: `/api/v1/turns/${turn.id}`,
            }),
          ),
        this.config.api.syncTurnTimeoutMs,
      );
    });
    try {
      const answer = await Promise.race([this.runner.runAndWait(chatTurnInputOf(turn), 'chat'), timeout]);
      // Runs recorded before the answer carried its turn id return it without.
      return { ...answer, turnId: turn.id };
    } catch (error) {
      if (error instanceof TurnAlreadyClosedError)
        return this.endedAnswer((await this.db.turns.findById(turn.id)) ?? turn);
      if (error instanceof TurnFailedError) throw turnFailureError(turn.id, error.type, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The answer of a turn that ended (read back for a retried request): the reply, the partial one, or why not. */
  private async endedAnswer(turn: TurnEntity): Promise<MessageView> {
    if (turn.status === 'failed') {
      throw turnFailureError(turn.id, turn.errorCode ?? 'turn_failed', turn.errorDetail ?? 'The turn failed');
    }
    const message = await this.db.messages.findById(turn.assistantMessageId);
    if (message) return toMessageView(message);
    if (turn.status === 'cancelled') throw turnFailureError(turn.id, TURN_CANCELLED, 'The turn was cancelled');
    throw new TurnError('turn_failed', 'The turn completed but its answer is missing', { turnId: turn.id });
  }
}

/** What the workflow is started with: ids only (everything else is already in the database). */
function chatTurnInputOf(turn: TurnEntity): ChatTurnInput {
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
    ...(turn.options?.tools?.length ? { tools: turn.options.tools } : {}),
    version: CHAT_TURN_VERSION,
  };
}

function turnOptionsOf(options: TurnOptions): TurnOptions | null {
  if (!options.webSearch && !options.fileIds?.length && !options.tools?.length) return null;
  return {
    ...(options.webSearch ? { webSearch: true } : {}),
    ...(options.fileIds?.length ? { fileIds: options.fileIds } : {}),
    ...(options.tools?.length ? { tools: options.tools } : {}),
  };
}
