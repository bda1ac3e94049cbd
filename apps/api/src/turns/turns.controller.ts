import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';
import type { Request, Response } from 'express';
import { AppError, ValidationError } from '../../../../libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { SendMessageDto } from './dto/send-message.dto';
import type { TurnAnswer, TurnView } from './turn.view';
import { TurnsService } from './turns.service';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller()
export class TurnsController {
  constructor(private readonly turns: TurnsService) {}

  @Post('conversations/:id/messages')
  @RequireScopes('chat:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a message: runs a chat turn workflow and answers with the persisted reply',
    description:
      'Default: waits and returns {turnId, userMessage, assistantMessage, citations}. `Prefer: respond-async`: 202 with the turn at once.',
  })
  @ApiOkResponse({ description: '{turnId, userMessage, assistantMessage, citations}' })
  @ApiAcceptedResponse({ description: 'With Prefer: respond-async: the queued turn and its eventsUrl' })
  @RateLimit('chat')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'A retried request with the same key gets the same turn',
  })
  @ApiHeader({ name: 'Prefer', required: false, description: '`respond-async` to get 202 at once' })
  @ApiProblems(400, 404, 406, 413, 415, 422, 502, 504)
  async send(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) conversationId: string,
    @Body() dto: SendMessageDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TurnAnswer | (TurnView & { eventsUrl: string })> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }]);
    }
    if (
      req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream' &&
      !req.accepts('application/json')
    ) {
      throw new AppError(
        'not_acceptable',
        406,
        'Streaming a turn over SSE is not available yet; use Prefer: respond-async and GET /turns/:id',
      );
    }
    const options = { idempotencyKey, requestId: req.requestId };
    if (prefer && /(^|[\s,;])respond-async($|[\s,;])/i.test(prefer)) {
      const turn = await this.turns.sendAsync(principal, conversationId, dto, options);
      res.status(202).setHeader('Preference-Applied', 'respond-async');
      res.setHeader('Location', `/api/v1/turns/${turn.id}`);
      return { ...turn, eventsUrl: `/api/v1/turns/${turn.id}/events` };
    }
    return this.turns.sendAndWait(principal, conversationId, dto, options);
  }

  @Get('turns/:turnId')
  @RequireScopes('chat:read')
  @ApiOperation({ summary: "A turn's status and steps (live while it runs)" })
  @ApiOkResponse({ description: '{id, status, steps, userMessageId, assistantMessageId?, error?}' })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('turnId', UuidParamPipe) turnId: string): Promise<TurnView> {
    return this.turns.get(principal, turnId);
  }
}
