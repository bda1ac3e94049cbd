import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';
import { MODEL_NAME } from '../../conversations/dto/create-conversation.dto';
import { ToolNames } from '../../tools/tool-names.decorator';
import { MAX_FILE_IDS, MAX_MESSAGE_CHARS } from '../../turns/dto/send-message.dto';

/** Most messages one request may carry (the conversation it becomes is imported in one transaction). */
export const MAX_COMPLETION_MESSAGES = 500;
export const COMPLETION_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type CompletionRole = (typeof COMPLETION_ROLES)[number];

/** A text part of a message's content array (`{type: 'text', text}`); other part types are refused. */
export interface TextPart {
  type: 'text';
  text: string;
}

/** `content`: a string, or an array of text parts, at most MAX_MESSAGE_CHARS characters in all. */
function IsMessageContent(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate(value: unknown): boolean {
          return contentText(value) !== undefined;
        },
        defaultMessage(args: ValidationArguments): string {
          return Array.isArray(args.value)
            ? `must be text parts ({"type":"text","text":"…"}); images, audio and files are not supported here, and ` +
                `the text is at most ${MAX_MESSAGE_CHARS} characters`
            : `must be a string of at most ${MAX_MESSAGE_CHARS} characters, or an array of text parts`;
        },
      },
    });
}

/** The text of a message's content, or undefined when it is not valid content. */
export function contentText(value: unknown): string | undefined {
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else if (Array.isArray(value) && value.length <= 100) {
    const parts: string[] = [];
    for (const part of value as unknown[]) {
      if (typeof part !== 'object' || part === null) return undefined;
      const { type, text: partText, ...rest } = part as Record<string, unknown>;
      if (type !== 'text' || typeof partText !== 'string' || Object.keys(rest).length > 0) return undefined;
      parts.push(partText);
    }
    text = parts.join('\n');
  }
  return text !== undefined && text.length <= MAX_MESSAGE_CHARS ? text : undefined;
}

export class CompletionMessageDto {
  @ApiProperty({ enum: COMPLETION_ROLES })
  @IsIn(COMPLETION_ROLES, {
    message: `must be one of ${COMPLETION_ROLES.join(', ')} (tool messages are not supported on this endpoint yet)`,
  })
  role!: CompletionRole;

  @ApiProperty({ description: 'A string, or an array of `{type: "text", text}` parts' })
  @IsMessageContent()
  content!: string | TextPart[];

  @ApiPropertyOptional({ description: 'Accepted and not used' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;
}

export class StreamOptionsDto {
  @ApiPropertyOptional({ description: 'Send a last chunk with the usage before `[DONE]`' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  include_usage?: boolean;
}

/** GigaChat's own options, in an extension field OpenAI clients pass through (`extra_body` in the SDKs). */
export class GigachatOptionsDto {
  @ApiPropertyOptional({
    description:
      'Continue this conversation of yours: only the last message is sent, the conversation holds the history. ' +
      'Without it, each request becomes a new conversation holding the messages it carries.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  conversationId?: string;

  @ApiPropertyOptional({ description: 'Search the web for this answer (SearxNG)' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  webSearch?: boolean;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_FILE_IDS, description: 'Retrieve only from these files' })
  @IsOptional()
  @IsArray({ message: 'must be an array of file ids' })
  @ArrayMaxSize(MAX_FILE_IDS)
  @IsUUID('all', { each: true, message: 'must be file ids (UUIDs)' })
  fileIds?: string[];

  @ToolNames("GigaChat's tools the model may call (GET /api/v1/tools), run durably by the turn")
  tools?: string[];
}

/**
 * `POST /v1/chat/completions`, as OpenAI's clients send it. Sampling settings are accepted so that clients work
 * unchanged, and not applied: the deployment's providers decide them.
 */
export class ChatCompletionRequestDto {
  @ApiProperty({ description: 'A model of GET /v1/models' })
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model!: string;

  @ApiProperty({ type: [CompletionMessageDto], minItems: 1, maxItems: MAX_COMPLETION_MESSAGES })
  @IsArray({ message: 'must be an array of messages' })
  @ArrayMinSize(1, { message: 'must hold at least one message' })
  @ArrayMaxSize(MAX_COMPLETION_MESSAGES)
  @ValidateNested({ each: true })
  @Type(() => CompletionMessageDto)
  messages!: CompletionMessageDto[];

  @ApiPropertyOptional({ description: 'Answer as server-sent `chat.completion.chunk`s, ending with `[DONE]`' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  stream?: boolean;

  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;

  @ApiPropertyOptional({ type: GigachatOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GigachatOptionsDto)
  gigachat?: GigachatOptionsDto;

  @ApiPropertyOptional({ description: 'Only 1' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1, { message: 'must be 1: one answer per request' })
  n?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  top_p?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_completion_tokens?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  presence_penalty?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  frequency_penalty?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsInt()
  seed?: number;

  @ApiPropertyOptional({ description: 'Accepted, not applied' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;
}
