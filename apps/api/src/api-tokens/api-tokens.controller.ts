import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { SessionOnly } from '../security/require-scopes.decorator';
import { ApiTokenList, ApiTokenView, CreatedApiToken } from './api-token.view';
import { ApiTokensService } from './api-tokens.service';
import { CreateApiTokenDto } from './dto/create-api-token.dto';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblems(401)
@SessionOnly()
@Controller('tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a scoped API token; the secret (gct_…) is in this answer only',
    description: 'Needs a login session (not an API token). Only scopes the caller holds can be granted.',
  })
  @ApiCreatedResponse({ type: CreatedApiToken })
  @ApiProblems(400)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateApiTokenDto,
    @Req() req: Request,
  ): Promise<CreatedApiToken> {
    return this.tokens.create(principal, dto, clientInfo(req));
  }

  @Get()
  @ApiOperation({ summary: 'Your API tokens (never their secrets)' })
  @ApiOkResponse({ type: ApiTokenList })
  async list(@CurrentPrincipal() principal: Principal): Promise<ApiTokenList> {
    return { items: await this.tokens.list(principal) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your API tokens (never its secret)' })
  @ApiOkResponse({ type: ApiTokenView })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string): Promise<ApiTokenView> {
    return this.tokens.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your API tokens; it stops working at once' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404)
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.tokens.revoke(principal, id, clientInfo(req));
  }
}
