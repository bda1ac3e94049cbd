import {
  Controller,
  Get,
  Headers,
  HttpCode,
  Injectable,
  Param,
  type PipeTransform,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ValidationError } from '#libs/errors/app-error';
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
import { ToolApprovalService, type ToolDecisionView } from './tool-approval.service';
import { TurnResponder } from './turn-responder';
import { TurnsService } from './turns.service';

/** A tool call's id as models make them (`call_…`): letters, digits and `_.:-`, at most 128. */
@Injectable()
class ToolCallIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(value)) {
      throw new ValidationError([{ field: 'callId', message: 'must be a tool call id' }]);
    }
    return value;
  }
}

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('turns')
export class TurnsController {
  constructor(
    private readonly turns: TurnsService,
    private readonly cancellation: TurnCancellationService,
    private readonly responder: TurnResponder,
    private readonly approvals: ToolApprovalService,
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

  @Post(':turnId/tool-calls/:callId/approve')
  @RequireScopes('chat:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a tool call that waits for you',
    description:
      'The call named by a `tool.approval_required` event runs. Only the turn’s owner, only once: a call already ' +
      'decided, timed out (it went on as denied) or not waiting is 409; a finished turn is 409.',
  })
  @ApiOkResponse({ description: '{turnId, callId, decision: "approved"}' })
  @ApiProblems(400, 403, 404, 409)
  approve(
    @CurrentPrincipal() principal: Principal,
    @Param('turnId', UuidParamPipe) turnId: string,
    @Param('callId', ToolCallIdPipe) callId: string,
  ): Promise<ToolDecisionView> {
    return this.approvals.decide(principal, turnId, callId, true);
  }

  @Post(':turnId/tool-calls/:callId/deny')
  @RequireScopes('chat:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Deny a tool call that waits for you',
    description: 'The call does not run; the model is told it was denied and answers without it.',
  })
  @ApiOkResponse({ description: '{turnId, callId, decision: "denied"}' })
  @ApiProblems(400, 403, 404, 409)
  deny(
    @CurrentPrincipal() principal: Principal,
    @Param('turnId', UuidParamPipe) turnId: string,
    @Param('callId', ToolCallIdPipe) callId: string,
  ): Promise<ToolDecisionView> {
    return this.approvals.decide(principal, turnId, callId, false);
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
