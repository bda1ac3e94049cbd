import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
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
import type { ConversationView, MessageView } from './conversation.view';
import { ConversationsService } from './conversations.service';
import { CreateConversationDto } from './dto/create-conversation.dto';
import { ListConversationsQuery } from './dto/list-conversations.query';

@ApiTags('conversations')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @RequireScopes('chat:write')
  @ApiOperation({ summary: 'Start a conversation' })
  @ApiCreatedResponse({ description: 'The new conversation' })
  @ApiProblems(400)
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateConversationDto): Promise<ConversationView> {
    return this.conversations.create(principal, dto);
  }

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({ summary: 'Your conversations, most recently active first (cursor paging)' })
  @ApiOkResponse({ description: '{items, nextCursor}' })
  @ApiProblems(400)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListConversationsQuery,
  ): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
    return this.conversations.list(principal, query);
  }

  @Get(':id')
  @RequireScopes('chat:read')
  @ApiOperation({ summary: 'A conversation with the messages of its current branch' })
  @ApiOkResponse({ description: 'The conversation and its current branch, oldest message first' })
  @ApiProblems(400, 404)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<ConversationView & { messages: MessageView[] }> {
    return this.conversations.get(principal, id);
  }

  @Delete(':id')
  @RequireScopes('chat:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a conversation with all its messages and turns' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404)
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.conversations.delete(principal, id, clientInfo(req));
  }
}
