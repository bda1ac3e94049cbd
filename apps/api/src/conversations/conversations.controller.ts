import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { RequireScopes } from '../security/require-scopes.decorator';
import { ConversationTransferService } from './conversation-transfer.service';
import type { ConversationMessageView, ConversationView } from './conversation.view';
import { ConversationsService } from './conversations.service';
import { CreateConversationDto } from './dto/create-conversation.dto';
import { ExportConversationQuery } from './dto/export-conversation.query';
import { ImportConversationDto } from './dto/import-conversation.dto';
import { ListConversationsQuery } from './dto/list-conversations.query';
import { UpdateConversationDto } from './dto/update-conversation.dto';

@ApiTags('conversations')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly transfer: ConversationTransferService,
  ) {}

  @Post()
  @RequireScopes('chat:write')
  @ApiOperation({ summary: 'Start a conversation' })
  @ApiCreatedResponse({ description: 'The new conversation' })
  @ApiProblems(400)
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateConversationDto): Promise<ConversationView> {
    return this.conversations.create(principal, dto);
  }

  @Post('import')
  @RequireScopes('chat:write')
  @ApiOperation({
    summary: 'Import a conversation from the JSON export format',
    description:
      'Creates a new conversation owned by the caller, with new ids for it and every message (the tree and the ' +
      "current branch are kept, and so are the messages' creation times). Every parentId must name a message of " +
      'the file, without cycles; at most 5 000 messages, within the request body limit.',
  })
  @ApiCreatedResponse({ description: 'The new conversation' })
  @ApiProblems(400, 413, 415)
  import(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ImportConversationDto,
    @Req() req: Request,
  ): Promise<ConversationView> {
    return this.transfer.import(principal, dto, clientInfo(req));
  }

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'Your conversations and those shared with you, most recently active first (cursor paging)',
    description: 'Unarchived ones unless `archived=true`; `q` filters on a part of the title, case-insensitively.',
  })
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
  ): Promise<ConversationView & { messages: ConversationMessageView[] }> {
    return this.conversations.get(principal, id);
  }

  @Patch(':id')
  @RequireScopes('chat:write')
  @ApiOperation({
    summary: 'Rename, archive, set the model or system prompt, or switch branch',
    description:
      '`title` and `currentMessageId` need write access (owner or write sharee); `archived`, `model` and ' +
      '`systemPrompt` need the owner. `currentMessageId` must be a message of this conversation: it becomes the ' +
      'end of the branch GET /conversations/{id} shows and the next message continues. An empty body is 400.',
  })
  @ApiOkResponse({ description: 'The conversation' })
  @ApiProblems(400, 403, 404)
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateConversationDto,
    @Req() req: Request,
  ): Promise<ConversationView> {
    return this.conversations.update(principal, id, dto, clientInfo(req));
  }

  @Get(':id/export')
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'Download the conversation: JSON with every branch (importable), or the current branch as Markdown',
  })
  @ApiProduces('application/json', 'text/markdown')
  @ApiOkResponse({ description: 'An attachment (Content-Disposition)' })
  @ApiProblems(400, 404)
  async export(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ExportConversationQuery,
    @Res() res: Response,
  ): Promise<void> {
    const file = await this.transfer.export(principal, id, query.format ?? 'json');
    res
      .status(200)
      .setHeader('Content-Type', file.contentType)
      .setHeader('Content-Disposition', `attachment; filename="${file.filename}"`)
      .send(file.body);
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
