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
import { RequireScopes } from '../security/require-scopes.decorator';
import { ConversationSharesService } from './conversation-shares.service';
import { ShareConversationDto } from './dto/share-conversation.dto';
import { ShareList, ShareView } from './share.view';

@ApiTags('conversations')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('conversations/:id/shares')
export class ConversationSharesController {
  constructor(private readonly shares: ConversationSharesService) {}

  @Post()
  @RequireScopes('chat:write')
  @ApiOperation({
    summary: 'Share the conversation with another user, read-only or read-write (owner only)',
    description: 'Sharing with the same user again changes the permission.',
  })
  @ApiCreatedResponse({ type: ShareView })
  @ApiProblems(400, 404)
  share(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: ShareConversationDto,
    @Req() req: Request,
  ): Promise<ShareView> {
    return this.shares.share(principal, id, dto, clientInfo(req));
  }

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({ summary: 'Who the conversation is shared with (owner only)' })
  @ApiOkResponse({ type: ShareList })
  @ApiProblems(400, 404)
  async list(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string): Promise<ShareList> {
    return { items: await this.shares.list(principal, id) };
  }

  @Delete(':userId')
  @RequireScopes('chat:write')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove a user's share (the owner, or the sharee themselves); effective at once" })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 404)
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Param('userId', UuidParamPipe) userId: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.shares.revoke(principal, id, userId, clientInfo(req));
  }
}
