import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MCP_SERVER_NAME } from '#libs/mcp/mcp-server-config';
import { IsBoolean, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class AddMcpServerDto {
  @ApiProperty({ example: 'notes', description: 'Lower-case letters, digits and _; its tools become `<name>__<tool>`' })
  @IsString()
  @Matches(MCP_SERVER_NAME, {
    message: 'must be lower-case letters, digits and single _ (at most 31), starting with a letter',
  })
  name!: string;

  @ApiProperty({ example: 'https://mcp.example.com/mcp', description: 'Its streamable HTTP endpoint (public only)' })
  @IsString()
  @MaxLength(2000)
  @Matches(/^https?:\/\/[^\s]+$/i, { message: 'must be an http(s) URL' })
  url!: string;

  @ApiPropertyOptional({
    description: 'Sent with every request (e.g. Authorization). Stored encrypted; never shown again.',
    example: { Authorization: 'Bearer …' },
  })
  @IsOptional()
  @IsObject({ message: 'must be an object of header names and values' })
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    description:
      'Signs in with OAuth (the MCP authorization spec) instead of headers: then POST /mcp-servers/:id/oauth and open ' +
      'the page it returns in the browser where you use GigaChat (default false)',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  oauth?: boolean;

  @ApiPropertyOptional({ description: 'Each call waits for your approval (default true)' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  requiresApproval?: boolean;
}
