import { Module } from '@nestjs/common';
import { McpServersController } from './mcp-servers.controller';
import { McpServerOAuthService } from './mcp-server-oauth.service';
import { McpServersService } from './mcp-servers.service';

/** `/mcp-servers`: users' own MCP servers, and OAuth sign-ins to them. */
@Module({ controllers: [McpServersController], providers: [McpServersService, McpServerOAuthService] })
export class McpServersModule {}
