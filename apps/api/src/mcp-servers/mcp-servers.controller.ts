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
import { AddMcpServerDto } from './dto/add-mcp-server.dto';
import { CompleteMcpOAuthDto } from './dto/complete-mcp-oauth.dto';
import { type McpOAuthStart, McpServerOAuthService } from './mcp-server-oauth.service';
import type { McpServerView } from './mcp-server.view';
import { McpServersService } from './mcp-servers.service';

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('mcp-servers')
export class McpServersController {
  constructor(
    private readonly servers: McpServersService,
    private readonly oauth: McpServerOAuthService,
  ) {}

  @Post()
  @RequireScopes('chat:write')
  @ApiOperation({
    summary: 'Add an MCP server of yours (streamable HTTP); its tools become `<name>__<tool>` in your turns',
    description:
      'Headers (your credentials for it) are stored encrypted and never shown again. Only public addresses: a ' +
      'private, loopback or link-local one is refused, also when a name resolves to it at connect time.',
  })
  @ApiCreatedResponse({ description: '{id, name, url, headerNames, requiresApproval, createdAt}' })
  @ApiProblems(400, 409)
  add(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: AddMcpServerDto,
    @Req() req: Request,
  ): Promise<McpServerView> {
    return this.servers.add(principal, dto, clientInfo(req));
  }

  @Post('oauth/complete')
  @RequireScopes('chat:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Finish an OAuth sign-in to one of your MCP servers with the code and state its callback received',
    description:
      "The web client's page at /mcp-servers/oauth/callback calls this with your credentials: only the user who " +
      'started the sign-in can finish it, once, within ten minutes.',
  })
  @ApiOkResponse({ description: 'The server, now signed in' })
  @ApiProblems(400, 502)
  completeOAuth(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CompleteMcpOAuthDto,
    @Req() req: Request,
  ): Promise<McpServerView> {
    return this.oauth.complete(principal, dto, clientInfo(req));
  }

  @Post(':id/oauth')
  @RequireScopes('chat:write')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start an OAuth sign-in to one of your MCP servers (added with oauth: true)',
    description:
      'Discovers its authorization server, registers GigaChat there if needed and returns the page to open in the ' +
      'browser where you use the web client; that server sends the browser back to the web client, which finishes ' +
      'the sign-in. Tokens are stored encrypted and refreshed by the workers; they are never shown.',
  })
  @ApiOkResponse({ description: '{authorizationUrl, expiresAt}' })
  @ApiProblems(400, 404, 409, 502)
  startOAuth(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<McpOAuthStart> {
    return this.oauth.start(principal, id, clientInfo(req));
  }

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({ summary: 'Your MCP servers (the names of the headers they send, never the values)' })
  @ApiOkResponse({ description: '{items: [{id, name, url, headerNames, requiresApproval, createdAt}]}' })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ items: McpServerView[] }> {
    return { items: await this.servers.list(principal) };
  }

  @Delete(':id')
  @RequireScopes('chat:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove one of your MCP servers; turns already running keep the tools they started with' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.servers.remove(principal, id, clientInfo(req));
  }
}
