import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { ToolNames } from '../../tools/tool-names.decorator';

export const MODEL_NAME = /^[A-Za-z0-9._:/@-]{1,100}$/;

export class CreateConversationDto {
  @ApiPropertyOptional({ maxLength: 200, description: 'Defaults to the start of the first message' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxCodePoints(200)
  title?: string;

  @ApiPropertyOptional({
    example: 'gpt-4o-mini',
    description: 'Model for this conversation; the server default otherwise',
  })
  @IsOptional()
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model?: string;

  @ApiPropertyOptional({ maxLength: 20000 })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  systemPrompt?: string;

  @ToolNames(
    'Tools the model may call in this conversation when a message names none (names from GET /tools; ' +
      '`<server>__*` for every tool of an MCP server); none when absent',
  )
  tools?: string[];
}
