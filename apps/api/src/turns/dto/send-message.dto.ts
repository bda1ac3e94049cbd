import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { MODEL_NAME } from '../../conversations/dto/create-conversation.dto';
import { ToolNames } from '../../tools/tool-names.decorator';

export const MAX_MESSAGE_CHARS = 100_000;
export const MAX_FILE_IDS = 50;
export class SendMessageDto {
  @ApiProperty({ maxLength: MAX_MESSAGE_CHARS, example: 'What is a durable workflow?' })
  @IsString()
  @MinLength(1, { message: 'must not be empty' })
  @MaxLength(MAX_MESSAGE_CHARS)
  @Matches(/\S/, { message: 'must contain more than white space' })
  content!: string;

  @ApiPropertyOptional({ description: 'The message to answer; defaults to the end of the current branch' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  parentMessageId?: string;

  @ApiPropertyOptional({ description: "Model for this message; the conversation's otherwise" })
  @IsOptional()
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model?: string;

  @ApiPropertyOptional({ description: 'Also search the web (SearxNG); reported as skipped when none is configured' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  webSearch?: boolean;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_FILE_IDS,
    description: 'Retrieve only from these of your files; all of your ready files otherwise',
  })
  @IsOptional()
  @IsArray({ message: 'must be an array of file ids' })
  @ArrayMaxSize(MAX_FILE_IDS)
  @IsUUID('all', { each: true, message: 'must be file ids (UUIDs)' })
  fileIds?: string[];

  @ToolNames(
    'Tools the model may call in this turn (names from GET /tools; `<server>__*` for every tool of an MCP server); ' +
      'none when absent',
  )
  tools?: string[];
}
