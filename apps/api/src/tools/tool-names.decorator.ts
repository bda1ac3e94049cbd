import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches } from 'class-validator';

export const MAX_TOOLS = 32;
/** A tool's name as `GET /tools` lists it; `<server>__*` names every tool of an MCP server. */
export const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$|^[a-z][a-z0-9_]{0,30}__\*$/;

/** An optional list of tool names (`GET /tools`), as the send body and the OpenAI extension field take it. */
export function ToolNames(description: string, options: { nullable?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      maxItems: MAX_TOOLS,
      example: ['calculator', 'fetch_url'],
      description,
      ...(options.nullable ? { nullable: true } : {}),
    }),
    IsOptional(),
    IsArray({ message: 'must be an array of tool names' }),
    ArrayMaxSize(MAX_TOOLS),
    IsString({ each: true, message: 'must be tool names' }),
    Matches(TOOL_NAME, { each: true, message: 'must be tool names (lower-case letters, digits and _)' }),
  );
}
