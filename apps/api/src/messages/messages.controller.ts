import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { PageQuery } from '../common/page.query';
import type { ConversationMessageView } from '../conversations/conversation.view';
import { ConversationsService } from '../conversations/conversations.service';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { RequireScopes } from '../security/require-scopes.decorator';
import { SendMessageDto } from '../turns/dto/send-message.dto';
import { AnswersWithTurn } from '../turns/answers-with-turn.decorator';
import { TurnResponder } from '../turns/turn-responder';
import { messageRequest } from '../turns/turn-request';
import { EditMessageDto } from './dto/edit-message.dto';
import { MessageFeedbackDto } from './dto/message-feedback.dto';
import { RegenerateMessageDto } from './dto/regenerate-message.dto';
import type { MessageFeedbackView } from './message-feedback.view';
import { MessagesService } from './messages.service';

const ANSWERED_LIKE_SEND =
  'Answered like POST /conversations/{id}/messages: 200 {turnId, userMessage, assistantMessage, citations} once ' +
  'the reply is saved; `Prefer: respond-async`: 202 with the turn; `Accept: text/event-stream`: the turn as SSE.';

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller()
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly conversations: ConversationsService,
    private readonly responder: TurnResponder,
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
    await this.responder.respond(principal, () => Promise.resolve(messageRequest(conversationId, dto)), req, res);
  }

  @Get('conversations/:id/messages')
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'Every message of the conversation, all branches, oldest first (cursor paging)',
    description: 'Each with its parentId (the tree), and `feedback`: the caller’s own rating or null.',
  })
  @ApiOkResponse({ description: '{items, nextCursor}' })
  @ApiProblems(400, 404)
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<{ items: ConversationMessageView[]; nextCursor: string | null }> {
    return this.conversations.listMessages(principal, id, query);
  }

  @Patch('messages/:id')
  @ApiOperation({
    summary: 'Edit a user message: the new text becomes a new branch (a sibling of the original) and is answered',
    description: `The original stays; the conversation's current branch moves to the new message. ${ANSWERED_LIKE_SEND}`,
  })
  @AnswersWithTurn({ forbidden: true })
  async edit(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: EditMessageDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.respond(principal, () => this.messages.editRequest(principal, id, dto), req, res);
  }

  @Post('messages/:id/regenerate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Answer the user message of an assistant reply again: a new reply as a sibling branch',
    description:
      'The new turn reuses the existing user message (no copy); its context is the branch up to that message, ' +
      `so the earlier reply is not part of it. The current branch moves to the new reply. ${ANSWERED_LIKE_SEND}`,
  })
  @AnswersWithTurn({ forbidden: true })
  async regenerate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: RegenerateMessageDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.respond(principal, () => this.messages.regenerateRequest(principal, id, dto), req, res);
  }

  @Post('messages/:id/feedback')
  @RequireScopes('chat:write')
  @ApiOperation({
    summary: 'Rate an assistant message (anyone who may read the conversation); rating again replaces it',
    description: '201 the first time, 200 after. Each user sees only their own feedback on the messages.',
  })
  @ApiCreatedResponse({ description: 'The feedback, first time' })
  @ApiOkResponse({ description: 'The feedback, replaced' })
  @ApiProblems(400, 404)
  async feedback(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: MessageFeedbackDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageFeedbackView> {
    const { created, feedback } = await this.messages.rate(principal, id, dto);
    res.status(created ? 201 : 200);
    return feedback;
  }
}
