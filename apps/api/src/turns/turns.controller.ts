import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { RequireScopes } from '../security/require-scopes.decorator';
import type { Request, Response } from 'express';
import { ValidationError } from '#libs/errors/app-error';
import { STREAM_ID } from '#libs/events/turn-event-log';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { SendMessageDto } from './dto/send-message.dto';
import type { TurnView } from './turn.view';
import type { CancelTurnView } from './turn-cancellation.service';
import { TurnCancellationService } from './turn-cancellation.service';
import { AnswersWithTurn, respondWithTurn } from './turn-response';
import { messageRequest, TurnsService } from './turns.service';

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller()
export class TurnsController {
  constructor(
    private readonly turns: TurnsService,
    private readonly cancellation: TurnCancellationService,
  ) {}

  @Post('conversations/:id/messages')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a message: runs a chat turn workflow and answers with the persisted reply',
    description:
      'Default: waits and returns {turnId, userMessage, assistantMessage, citations}. `Prefer: respond-async`: 202 with the turn at once. `Accept: text/event-stream`: the turn as server-sent events (see GET /turns/{turnId}/events); `Location` names the turn.',
  })
  @AnswersWithTurn()
  async send(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) conversationId: string,
    @Body() dto: SendMessageDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // The response is written by respondWithTurn (not returned) because the SSE form streams it.
    await respondWithTurn(this.turns, principal, () => Promise.resolve(messageRequest(conversationId, dto)), req, res);
  }

  @Get('turns/:turnId')
  @RequireScopes('chat:read')
  @ApiOperation({ summary: "A turn's status and steps (live while it runs)" })
  @ApiOkResponse({ description: '{id, status, steps, userMessageId, assistantMessageId?, error?}' })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('turnId', UuidParamPipe) turnId: string): Promise<TurnView> {
    return this.turns.get(principal, turnId);
  }

  @Post('turns/:turnId/cancel')
  @RequireScopes('chat:write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a running turn',
    description:
      'The generation stops within about two seconds; the partial answer is kept with status `cancelled` and the ' +
      'turn ends `cancelled` (event `turn.cancelled`). 202 `{id, status: "cancelling"}`; an already cancelled turn ' +
      'answers `{status: "cancelled"}`; a completed or failed turn is 409.',
  })
  @ApiAcceptedResponse({ description: '{id, status: "cancelling" | "cancelled"}' })
  @ApiProblems(400, 403, 404, 409)
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('turnId', UuidParamPipe) turnId: string,
  ): Promise<CancelTurnView> {
    return this.cancellation.cancel(principal, turnId);
  }

  @Get('turns/:turnId/events')
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: "A turn's live events as server-sent events, resumable with Last-Event-ID",
    description:
      'Events: turn.started, step {name, status}, token {delta}, citations {citations}, message.completed ' +
      '{assistantMessage}, turn.failed {code, detail}. Each carries an `id:`; send the last one seen as the ' +
      '`Last-Event-ID` header (or `lastEventId`) to resume after it. A comment every 15 s keeps the connection ' +
      'open; the stream ends after message.completed or turn.failed. Closing it never cancels the turn.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'Same as Last-Event-ID, for clients without headers' })
  @ApiProblems(400, 404, 503)
  async events(
    @CurrentPrincipal() principal: Principal,
    @Param('turnId', UuidParamPipe) turnId: string,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @Res() res: Response,
  ): Promise<void> {
    const header = lastEventIdHeader?.trim();
    const query = lastEventIdQuery;
    let afterId = '0';
    if (header) {
      if (!STREAM_ID.test(header)) {
        throw new ValidationError([{ field: 'Last-Event-ID', message: 'must be an event id this stream sent' }]);
      }
      afterId = header;
    } else if (query !== undefined) {
      if (typeof query !== 'string' || !STREAM_ID.test(query)) {
        throw new ValidationError([{ field: 'lastEventId', message: 'must be an event id this stream sent' }]);
      }
      afterId = query;
    }
    await this.turns.events(principal, turnId, afterId, res);
  }
}
