import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { ReplayControlAction } from '#libs/contracts/replay.contract';
import { ValidationError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { RequireScopes } from '../security/require-scopes.decorator';
import { Roles } from '../security/roles.decorator';
import { IDEMPOTENCY_KEY } from '../turns/turn-responder';
import { CreateReplayDto } from './dto/create-replay.dto';
import { ListReplayResultsQuery } from './dto/list-replay-results.query';
import { ListReplaysQuery } from './dto/list-replays.query';
import { ReplayReportQuery } from './dto/replay-report.query';
import type { ReplayResultPage } from './replay-result.view';
import type { ReplayPage, ReplayView } from './replay.view';
import { ReplaysService } from './replays.service';

@ApiTags('replays')
@ApiBearerAuth()
@ApiProblems(401, 403)
@Roles('admin')
@RequireScopes('admin')
@Controller('replays')
export class ReplaysController {
  constructor(private readonly replays: ReplaysService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay conversations against one or more arms (model, system prompt, retrieval, web search)',
    description:
      'Selects conversations you may read (by id, or by owner, creation time and search), replays the user turns ' +
      'of their current branches through the chat pipeline against each arm (`pinned`: the original history before ' +
      'each turn; `trajectory`: each arm its own), optionally judged pairwise. Nothing is written into the ' +
      'conversations. Answers 202 with the replay; follow `GET /replays/:id`. A selection over 10 000 ' +
      'conversations needs `limits.maxConversations`. `Idempotency-Key` maps a retried request to the same replay.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1–255 visible ASCII characters' })
  @ApiAcceptedResponse({ description: 'The replay (status queued or running) with its progress' })
  @ApiProblems(400, 404, 422)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateReplayDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ReplayView> {
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }]);
    }
    const { view } = await this.replays.create(principal, dto, { idempotencyKey, client: clientInfo(req) });
    res.setHeader('Location', `/api/v1/replays/${view.id}`);
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'Your replays, newest first (cursor paging)' })
  @ApiOkResponse({ description: '{items, nextCursor}' })
  @ApiProblems(400)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListReplaysQuery): Promise<ReplayPage> {
    return this.replays.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A replay with its progress: conversations done/failed/total, answers, tokens, ETA (live while it runs)',
  })
  @ApiOkResponse({ description: 'The replay' })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string): Promise<ReplayView> {
    return this.replays.get(principal, id);
  }

  @Get(':id/results')
  @ApiOperation({
    summary: 'Answers per user turn and arm, beside the original: metrics, verdict, bucket (cursor paging)',
  })
  @ApiOkResponse({ description: '{items, nextCursor}' })
  @ApiProblems(400, 404)
  results(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ListReplayResultsQuery,
  ): Promise<ReplayResultPage> {
    return this.replays.results(principal, id, query);
  }

  @Get(':id/report')
  @ApiOperation({
    summary: 'The report: per arm win/tie/loss with a 95 % interval, buckets, tokens, latency; failed conversations',
  })
  @ApiProduces('application/json', 'text/csv', 'text/markdown')
  @ApiOkResponse({ description: 'The report in the format asked for' })
  @ApiProblems(400, 404)
  async report(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ReplayReportQuery,
    @Res() res: Response,
  ): Promise<void> {
    const report = await this.replays.report(principal, id, query.format ?? 'json');
    res
      .status(200)
      .setHeader('Content-Type', report.contentType)
      .setHeader('Content-Disposition', `inline; filename="${report.filename}"`)
      .send(report.body);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: no new conversations start; running ones stop at their next turn' })
  @ApiOkResponse({ description: 'The replay, paused' })
  @ApiProblems(400, 404, 409)
  pause(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string, @Req() req: Request) {
    return this.control(principal, id, 'pause', req);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused replay' })
  @ApiOkResponse({ description: 'The replay, running' })
  @ApiProblems(400, 404, 409)
  resume(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string, @Req() req: Request) {
    return this.control(principal, id, 'resume', req);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel: running conversations stop, the rest are not replayed; what was answered is kept and reported',
  })
  @ApiOkResponse({ description: 'The replay, cancelling (then cancelled)' })
  @ApiProblems(400, 404, 409)
  cancel(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string, @Req() req: Request) {
    return this.control(principal, id, 'cancel', req);
  }

  private control(principal: Principal, id: string, action: ReplayControlAction, req: Request): Promise<ReplayView> {
    return this.replays.control(principal, id, action, clientInfo(req));
  }
}
