import type { ValidationPipe } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { AppError } from '#libs/errors/app-error';
import type { TurnEventTarget } from '#libs/events/turn-event-follower';
import type { Logger } from '#libs/logging/logger';
import type { Principal } from '../auth/principal';
import { SendMessageDto } from '../turns/dto/send-message.dto';
import type { TurnsService } from '../turns/turns.service';
import type { RealtimeAuthenticator } from './realtime-authenticator';
import { type ClientMessage, parseClientMessage, type ServerMessage } from './realtime-messages';

/** Close codes of the protocol (docs/API-NOTES.md, WebSocket). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_GOING_AWAY = 1001;

export interface RealtimeConnectionOptions {
  authenticator: RealtimeAuthenticator;
  turns: TurnsService;
  validation: ValidationPipe;
  logger: Logger;
  /** The client's address, for the chat rate limit's IP fallback. */
  ip: string | undefined;
  authTimeoutMs?: number;
  maxSubscriptions?: number;
}

/** A socket's send buffer past this pauses its turn subscriptions; they go on once it has drained below LOW_WATER. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
/** Messages waiting to be handled, one after another; past this a message is refused rather than queued. */
const MAX_QUEUED_MESSAGES = 32;
/** Messages a client may send: a burst of this many, refilled at MESSAGES_PER_SECOND; past it the socket closes. */
const MESSAGE_BURST = 40;
const MESSAGES_PER_SECOND = 20;
const CLOSE_POLICY_VIOLATION = 1008;

/**
 * One client's WebSocket: authenticates it (`auth` first, within 10 s), then handles its messages in order. Every
 * message after `auth` re-checks the credential, so a revoked or expired token closes the socket when it is next used.
 * Subscriptions follow turns through the shared reader; closing the socket stops them, never the turns.
 */
export class RealtimeConnection {
  private token: string | undefined;
  private principal: Principal | undefined;
  private readonly subscriptions = new Map<string, AbortController>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private alive = true;
  private closed = false;
  private readonly authTimer: NodeJS.Timeout;
  private readonly drainWaiters: (() => void)[] = [];
  private allowance = MESSAGE_BURST;
  private allowanceAt = Date.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly options: RealtimeConnectionOptions,
  ) {
    this.authTimer = setTimeout(
      () => this.fail(CLOSE_UNAUTHORIZED, 'unauthorized', 'Authenticate with {"type":"auth","token":…} first'),
      options.authTimeoutMs ?? 10_000,
    );
    ws.on('message', (data, isBinary) => this.enqueue(isBinary ? undefined : textOf(data)));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.dispose());
    ws.on('error', () => this.dispose());
  }

  /**
   * Called every heartbeat interval: a peer that did not answer the last ping is dropped, and a quiet socket's
   * credential and subscriptions are checked again, so a revoked token or share stops its events within one interval.
   */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.ws.terminate();
      this.dispose();
      return;
    }
    this.alive = false;
    this.ws.ping();
    if (this.token) {
      this.queue = this.queue.then(() => this.recheck()).catch((error: unknown) => this.sendError(error, undefined));
    }
  }

  private async recheck(): Promise<void> {
    if (this.closed || !this.token) return;
    let principal: Principal;
    try {
      principal = await this.options.authenticator.authenticate(this.token, this.options.ip);
    } catch (error) {
      return this.refuse(error, undefined);
    }
    this.principal = principal;
    for (const [turnId, stop] of [...this.subscriptions]) {
      try {
        await this.options.turns.requireReadableTurn(principal, turnId);
      } catch {
        stop.abort();
        this.subscriptions.delete(turnId);
        this.send({ type: 'error', code: 'not_found', detail: 'The turn was not found', turnId });
      }
    }
  }

  /** A token bucket per socket: a client flooding messages is cut off, not queued. */
  private withinRate(): boolean {
    const now = Date.now();
    this.allowance = Math.min(MESSAGE_BURST, this.allowance + ((now - this.allowanceAt) / 1000) * MESSAGES_PER_SECOND);
    this.allowanceAt = now;
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }

  /** The server is shutting down: the client reconnects elsewhere and resumes with its last event ids. */
  close(code = CLOSE_GOING_AWAY, reason = 'server shutting down'): void {
    this.dispose();
    this.ws.close(code, reason);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    for (const stop of this.subscriptions.values()) stop.abort();
    this.subscriptions.clear();
    for (const resume of this.drainWaiters.splice(0)) resume();
  }

  private enqueue(text: string | undefined): void {
    if (this.closed) return;
    if (!this.withinRate()) {
      this.fail(CLOSE_POLICY_VIOLATION, 'rate_limited', `At most ${MESSAGES_PER_SECOND} messages a second`);
      return;
    }
    if (this.queued >= MAX_QUEUED_MESSAGES) {
      this.send({ type: 'error', code: 'too_many_messages', detail: 'Wait for answers before sending more' });
      return;
    }
    this.queued++;
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.handle(text)))
      .catch((error: unknown) => this.sendError(error, undefined))
      .finally(() => this.queued--);
  }

  private async handle(text: string | undefined): Promise<void> {
    if (text === undefined) {
      this.send({ type: 'error', code: 'invalid_message', detail: 'Messages are JSON text frames' });
      return;
    }
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      const { ok: _ok, ...error } = parsed;
      if (this.principal) this.send({ type: 'error', ...error });
      else this.fail(CLOSE_UNAUTHORIZED, 'unauthorized', 'The first message must be {"type":"auth","token":…}');
      return;
    }
    const message = parsed.message;
    if (message.type === 'auth') return this.authenticate(message);
    if (!this.principal || !this.token) {
      this.fail(CLOSE_UNAUTHORIZED, 'unauthorized', 'The first message must be {"type":"auth","token":…}');
      return;
    }
    // The credential may have been revoked or have expired since the last message.
    let principal: Principal;
    try {
      principal =
        message.type === 'send'
          ? await this.options.authenticator.authorizeSend(this.token, this.options.ip)
          : await this.options.authenticator.authenticate(this.token, this.options.ip);
    } catch (error) {
      return this.refuse(error, message.ref);
    }
    this.principal = principal;
    switch (message.type) {
      case 'ping':
        return this.send({ type: 'pong', ...ref(message.ref) });
      case 'subscribe':
        return this.subscribe(message.turnId, message.lastEventId ?? '0', message.ref);
      case 'unsubscribe':
        this.subscriptions.get(message.turnId)?.abort();
        this.subscriptions.delete(message.turnId);
        return;
      case 'send':
        return this.sendMessage(principal, message);
    }
  }

  private async authenticate(message: Extract<ClientMessage, { type: 'auth' }>): Promise<void> {
    let principal: Principal;
    try {
      principal = await this.options.authenticator.authenticate(message.token, this.options.ip);
    } catch (error) {
      return this.refuse(error, message.ref);
    }
    if (this.principal && this.principal.userId !== principal.userId) {
      this.fail(CLOSE_UNAUTHORIZED, 'unauthorized', 'This connection belongs to another user', message.ref);
      return;
    }
    // A second `auth` replaces the token (e.g. after a refresh) for the same user.
    clearTimeout(this.authTimer);
    this.token = message.token;
    this.principal = principal;
    this.send({ type: 'ready', ...ref(message.ref), userId: principal.userId });
  }

  /** A credential that no longer passes closes the socket; a missing scope or the rate limit refuses the message. */
  private refuse(error: unknown, reference: string | undefined): void {
    if (error instanceof AppError && error.status === 401) {
      this.fail(CLOSE_UNAUTHORIZED, error.code, error.detail, reference);
    } else if (error instanceof AppError && error.status === 403 && !this.principal) {
      this.fail(CLOSE_FORBIDDEN, error.code, error.detail, reference);
    } else {
      this.sendError(error, reference);
    }
  }

  private subscribe(turnId: string, afterId: string, reference: string | undefined): void {
    if (this.subscriptions.has(turnId)) {
      this.send({ type: 'error', ...ref(reference), code: 'already_subscribed', detail: 'Already subscribed', turnId });
      return;
    }
    if (this.subscriptions.size >= (this.options.maxSubscriptions ?? 100)) {
      this.send({
        type: 'error',
        ...ref(reference),
        code: 'too_many_subscriptions',
        detail: 'Unsubscribe from finished turns first',
        turnId,
      });
      return;
    }
    const stop = new AbortController();
    this.subscriptions.set(turnId, stop);
    const principal = this.principal!;
    this.options.turns
      .follow(principal, turnId, afterId, this.targetFor(turnId), stop.signal)
      .catch((error: unknown) => this.sendError(error, reference, turnId))
      .finally(() => {
        if (this.subscriptions.get(turnId) === stop) this.subscriptions.delete(turnId);
      });
  }

  private async sendMessage(principal: Principal, message: Extract<ClientMessage, { type: 'send' }>): Promise<void> {
    const { type: _type, ref: reference, conversationId, idempotencyKey, ...body } = message;
    try {
      // The same validation and the same service call as POST /conversations/:id/messages with respond-async.
      const dto = (await this.options.validation.transform(body, {
        type: 'body',
        metatype: SendMessageDto,
      })) as SendMessageDto;
      const turn = await this.options.turns.sendAsync(principal, conversationId, dto, {
        idempotencyKey,
        requestId: randomUUID(),
      });
      this.send({ type: 'turn', ...ref(reference), turnId: turn.id });
      if (!this.subscriptions.has(turn.id)) this.subscribe(turn.id, '0', reference);
    } catch (error) {
      this.sendError(error, reference);
    }
  }

  /** Writes a turn's events as `event` frames; reports a full buffer so the follower pauses. */
  private targetFor(turnId: string): TurnEventTarget {
    const prefix = `{"type":"event","turnId":${JSON.stringify(turnId)},"id":`;
    return {
      // `data` is the event's JSON as the worker wrote it: embedded as is, not parsed and serialized again.
      send: (event) => {
        if (this.closed) return true;
        this.ws.send(
          `${prefix}${JSON.stringify(event.id)},"event":${JSON.stringify(event.event)},"data":${event.data}}`,
          () => this.drained(),
        );
        return this.ws.bufferedAmount < HIGH_WATER_BYTES;
      },
      onDrain: (resume) => {
        this.drainWaiters.push(resume);
      },
    };
  }

  private drained(): void {
    if (this.drainWaiters.length === 0 || this.ws.bufferedAmount > LOW_WATER_BYTES) return;
    for (const resume of this.drainWaiters.splice(0)) resume();
  }

  private fail(code: number, errorCode: string, detail: string, reference?: string): void {
    if (this.closed) return;
    this.send({ type: 'error', ...ref(reference), code: errorCode, detail });
    this.close(code, errorCode);
  }

  private sendError(error: unknown, reference: string | undefined, turnId?: string): void {
    if (error instanceof AppError) {
      const retryAfter = Number(error.extra.headers?.['Retry-After']);
      this.send({
        type: 'error',
        ...ref(reference),
        code: error.code,
        detail: error.detail,
        ...(turnId !== undefined ? { turnId } : {}),
        ...(error.extra.errors ? { errors: error.extra.errors } : {}),
        ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
      });
      return;
    }
    const errorId = randomUUID();
    this.options.logger.error(
      { errorId, turnId, err: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      'websocket message failed',
    );
    this.send({
      type: 'error',
      ...ref(reference),
      code: 'internal_error',
      detail: `Something went wrong (error id ${errorId})`,
      ...(turnId !== undefined ? { turnId } : {}),
    });
  }

  private send(message: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function ref(value: string | undefined): { ref?: string } {
  return value === undefined ? {} : { ref: value };
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}
