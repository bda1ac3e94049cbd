import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { EXPORT_FORMAT, EXPORT_VERSION, MAX_IMPORTED_MESSAGES } from '#libs/chat/conversation-export';
import type { MessageRole, MessageStatus } from '#libs/db/entities/message.entity';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { ToolNames } from '../../tools/tool-names.decorator';
import { MODEL_NAME } from './create-conversation.dto';

/** Required, but may be null. */
const notNull = (_: object, value: unknown): boolean => value !== null;
const MAX_CONTENT_CHARS = 1_000_000;

export class ImportedCitationDto {
  @ApiProperty({ enum: ['file', 'web'] })
  @IsIn(['file', 'web'])
  kind!: 'file' | 'web';

  @ApiProperty({ maxLength: 500 })
  @IsString()
  @MaxLength(500)
  title!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  fileId?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  chunkId?: string;

  @ApiProperty({ maxLength: 5000 })
  @IsString()
  @MaxLength(5000)
  snippet!: string;
}

export class ImportedUsageDto {
  @ApiProperty({ minimum: 0 })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  promptTokens!: number;

  @ApiProperty({ minimum: 0 })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  completionTokens!: number;
}

export class ImportedMessageDto {
  @ApiProperty({ format: 'uuid', description: 'Its id in the file; the import gives it a new one' })
  @IsUUID('all', { message: 'must be a UUID' })
  id!: string;

  @ApiProperty({ format: 'uuid', nullable: true, description: 'Another message of the file, or null for a root' })
  @ValidateIf(notNull)
  @IsUUID('all', { message: 'must be a UUID or null' })
  parentId!: string | null;

  @ApiProperty({ enum: ['user', 'assistant', 'system'] })
  @IsIn(['user', 'assistant', 'system'])
  role!: MessageRole;

  @ApiProperty({ maxLength: MAX_CONTENT_CHARS })
  @IsString()
  @MaxLength(MAX_CONTENT_CHARS)
  content!: string;

  @ApiProperty({ enum: ['complete', 'cancelled', 'failed'] })
  @IsIn(['complete', 'cancelled', 'failed'])
  status!: MessageStatus;

  @ApiProperty({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-) or null' })
  model!: string | null;

  @ApiProperty({ type: [ImportedCitationDto] })
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ImportedCitationDto)
  citations!: ImportedCitationDto[];

  @ApiProperty({ type: ImportedUsageDto, nullable: true })
  @ValidateIf(notNull)
  @IsObject()
  @ValidateNested()
  @Type(() => ImportedUsageDto)
  usage!: ImportedUsageDto | null;

  @ApiProperty({ format: 'date-time', description: 'Kept: the order of the messages is their creation order' })
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  createdAt!: string;
}

export class ImportedConversationDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Ignored: the import is a new conversation' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  id?: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxCodePoints(200)
  @Matches(/\S/, { message: 'must contain more than white space' })
  title!: string;

  @ApiProperty({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-) or null' })
  model!: string | null;

  @ApiProperty({ nullable: true, maxLength: 20000 })
  @ValidateIf(notNull)
  @IsString()
  @MaxLength(20000)
  systemPrompt!: string | null;

  @ToolNames('Tools for messages that name none; those this server does not offer are left out')
  tools?: string[];

  @ApiProperty()
  @IsBoolean()
  archived!: boolean;

  @ApiProperty({ format: 'uuid', nullable: true, description: 'The end of the shown branch: a message of the file' })
  @ValidateIf(notNull)
  @IsUUID('all', { message: 'must be a UUID or null' })
  currentMessageId!: string | null;

  @ApiPropertyOptional({ format: 'date-time', description: 'Ignored: the import is created now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  createdAt?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Ignored' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  updatedAt?: string;
}

/** The JSON export format, validated strictly: unknown fields anywhere are refused. */
export class ImportConversationDto {
  @ApiProperty({ enum: [EXPORT_FORMAT] })
  @Equals(EXPORT_FORMAT, { message: `must be "${EXPORT_FORMAT}"` })
  format!: typeof EXPORT_FORMAT;

  @ApiProperty({ enum: [EXPORT_VERSION] })
  @Equals(EXPORT_VERSION, { message: `must be ${EXPORT_VERSION}` })
  version!: typeof EXPORT_VERSION;

  @ApiPropertyOptional({ format: 'date-time', description: 'Ignored' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  exportedAt?: string;

  @ApiProperty({ type: ImportedConversationDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ImportedConversationDto)
  conversation!: ImportedConversationDto;

  @ApiProperty({ type: [ImportedMessageDto], maxItems: MAX_IMPORTED_MESSAGES })
  @IsArray()
  @ArrayMaxSize(MAX_IMPORTED_MESSAGES)
  @ValidateNested({ each: true })
  @Type(() => ImportedMessageDto)
  messages!: ImportedMessageDto[];
}
