import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { followTurnEvents } from '#libs/events/turn-event-follower';
import { ServiceUnavailableError, ValidationError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import type { Logger } from '#libs/logging/logger';
import { ApiMetrics } from '#libs/metrics/metrics';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { LOGGER } from '../infra/di-symbols';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';
import { IDEMPOTENCY_KEY } from '../turns/turn-responder';
import { TurnsService } from '../turns/turns.service';
import { ChatCompletionRequestDto } from './dto/chat-completion.dto';
import { CompletionChunkWriter, toChatCompletion, type ChatCompletion } from './openai-completion-stream';
import { OpenAiChatService } from './openai-chat.service';

/** `GET /v1/models` in OpenAI's shape. */
export interface OpenAiModelList {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string }[];
}

/**
 * The OpenAI-compatible API at `/v1` (outside `/api/v1`): any OpenAI client, or a frontend built on one, can use
 * GigaChat with an API token as its key. Each completion is a durable chat turn: it is stored, shows in the
 * conversation list and in the Temporal UI, and completes even when the client goes away mid-stream. Errors are
 * problem+json with OpenAI's `error` object beside it, so the SDKs raise them with our message.
 */
@ApiTags('openai-compatible')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1')
export class OpenAiController {
  constructor(
    private readonly chat: OpenAiChatService,
    private readonly turns: TurnsService,
    private readonly catalog: ModelCatalog,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: ApiMetrics,
  ) {}

  @Get('models')
  @RequireScopes('chat:read')
  @ApiOperation({ summary: 'The models, in OpenAI’s list shape (the same as GET /api/v1/models)' })
  @ApiOkResponse({ description: '{object: "list", data: [{id, object: "model", created, owned_by}]}' })
  models(): OpenAiModelList {
    return {
      object: 'list',
      data: this.catalog.list().map(({ id, provider }) => ({ id, object: 'model', created: 0, owned_by: provider })),
    };
  }

  @Post('chat/completions')
  @HttpCode(200)
  @RequireScopes('chat:write')
  @RateLimit('chat')
  @ApiOperation({
    summary: 'OpenAI chat completions, answered by a durable chat turn (streaming with `stream: true`)',
    description:
      'The messages before the last become a new conversation of yours (system/developer messages its system ' +
      'prompt); the last, a user message, is answered by a chat turn. `gigachat: {conversationId, webSearch, ' +
      'fileIds}` (an extension field; `extra_body` in the SDKs) continues a conversation of yours and turns on web ' +
      'search or retrieval from chosen files. Sampling settings are accepted and not applied. `Idempotency-Key` ' +
      'maps a retried request to the same conversation and turn.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1–255 visible ASCII characters' })
  @ApiOkResponse({ description: 'A chat.completion, or chat.completion.chunk server-sent events ending in [DONE]' })
  @ApiProblems(400, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
  async completions(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChatCompletionRequestDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }]);
    }
    const request = await this.chat.prepare(principal, dto, idempotencyKey);
    const created = await this.turns.create(principal, request, { idempotencyKey, requestId: req.requestId });
    const createdAt = Math.floor(created.turn.createdAt.getTime() / 1000);
    if (!dto.stream) {
      const answer = await this.turns.answer(created);
      res
        .status(200)
        .json(
          toChatCompletion(created.turn.id, dto.model, createdAt, answer.assistantMessage) satisfies ChatCompletion,
        );
      return;
    }
    await this.turns.start(created);
    await this.stream(created.turn.id, dto, createdAt, res);
  }

  /** The turn's events from the start, as chunks, until its end or until the client goes (the turn goes on). */
  private async stream(turnId: string, dto: ChatCompletionRequestDto, createdAt: number, res: Response): Promise<void> {
    const source = this.turns.eventSource(turnId);
    try {
      await source.events.exists(turnId); // a Redis outage is still a 503 before any header
    } catch {
      throw new ServiceUnavailableError('Live turn events are unavailable right now; try again', 1);
    }
    const stop = new AbortController();
    const onClose = (): void => stop.abort();
    res.on('close', onClose);
    if (res.destroyed || res.socket?.destroyed) onClose();
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.setHeader('Location', `/api/v1/turns/${turnId}`);
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const writer = new CompletionChunkWriter(res, turnId, dto.model, createdAt, !!dto.stream_options?.include_usage);
    writer.start();
    this.metrics.streamsOpen.inc({ transport: 'openai' });
    try {
      await followTurnEvents({
        ...source,
        log: source.events,
        turnId,
        afterId: '0',
        signal: stop.signal,
        target: {
          send: (event) => writer.send(event),
          onDrain: (resume) => res.once('drain', resume),
          keepAlive: () => void res.write(': keep-alive\n\n'),
        },
      });
    } catch (error) {
      if (!stop.signal.aborted) {
        this.logger.warn(
          { turnId, err: error instanceof Error ? error.message : String(error) },
          'completion stream failed',
        );
      }
    } finally {
      this.metrics.streamsOpen.dec({ transport: 'openai' });
      res.off('close', onClose);
      if (!res.writableEnded) res.end();
    }
  }
}
