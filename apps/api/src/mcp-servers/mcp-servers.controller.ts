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
import type { McpServerView } from './mcp-server.view';
import { McpServersService } from './mcp-servers.service';

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('mcp-servers')
export class McpServersController {
  constructor(private readonly servers: McpServersService) {}

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
