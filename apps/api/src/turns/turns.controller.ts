import { Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
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
import type { Response } from 'express';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import type { TurnView } from './turn.view';
import type { CancelTurnView } from './turn-cancellation.service';
import { TurnCancellationService } from './turn-cancellation.service';
import { TurnResponder } from './turn-responder';
import { TurnsService } from './turns.service';

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('turns')
export class TurnsController {
  constructor(
    private readonly turns: TurnsService,
    private readonly cancellation: TurnCancellationService,
    private readonly responder: TurnResponder,
  ) {}

  @Get(':turnId')
  @RequireScopes('chat:read')
  @ApiOperation({ summary: "A turn's status and steps (live while it runs)" })
  @ApiOkResponse({ description: '{id, status, steps, userMessageId, assistantMessageId?, error?}' })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('turnId', UuidParamPipe) turnId: string): Promise<TurnView> {
    return this.turns.get(principal, turnId);
  }

  @Post(':turnId/cancel')
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

  @Get(':turnId/events')
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: "A turn's live events as server-sent events, resumable with Last-Event-ID",
    description:
      'Events: turn.started, step {name, status}, token {delta}, citations {citations}, message.completed ' +
      '{assistantMessage}, turn.failed {code, detail}, turn.cancelled {turnId, assistantMessage}. Each carries an ' +
      '`id:`; send the last one seen as the `Last-Event-ID` header (or `lastEventId`) to resume after it. A comment ' +
      'every 15 s keeps the connection open; the stream ends after message.completed, turn.failed or ' +
      'turn.cancelled. Closing it never cancels the turn.',
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
    await this.responder.respondWithEvents(
      principal,
      turnId,
      { header: lastEventIdHeader, query: lastEventIdQuery },
      res,
    );
  }
}
