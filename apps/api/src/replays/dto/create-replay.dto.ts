import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
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
import { REPLAY_MODES, type ReplayMode } from '#libs/contracts/replay.contract';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { MODEL_NAME } from '../../conversations/dto/create-conversation.dto';

/** Most conversations one request may name by id (a larger batch is a selection by user, date or search). */
export const MAX_CONVERSATION_IDS = 10_000;
export const MAX_ARMS = 8;
/** Hard ceiling of any replay, whatever `maxConversations` says. */
export const MAX_REPLAY_CONVERSATIONS = 1_000_000;

const PROVIDER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Which conversations: by id, or by owner / creation time / search (combined), always only those you may read. */
export class ReplaySelectionDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: MAX_CONVERSATION_IDS })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CONVERSATION_IDS)
  @ArrayUnique({ message: 'must not name a conversation twice' })
  @IsUUID('all', { each: true, message: 'must be UUIDs' })
  conversationIds?: string[];

  @ApiPropertyOptional({ format: 'uuid', description: 'Conversations owned by this user (that you may read)' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  userId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Conversations created at or after' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Conversations created before' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'Conversations with a message matching this search' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxCodePoints(200)
  query?: string;
}

/** One setup to replay the conversations against. */
export class ReplayArmDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'A model some configured provider serves (GET /models)' })
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model!: string;

  @ApiPropertyOptional({ maxLength: 60, description: 'Shown in reports; the model by default' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxCodePoints(60)
  label?: string;

  @ApiPropertyOptional({
    maxLength: 20000,
    nullable: true,
    description: "Instead of each conversation's own system prompt; null for none",
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(20000)
  systemPrompt?: string | null;

  @ApiPropertyOptional({ default: false, description: "Passages from the sender's files, as the original turn" })
  @IsOptional()
  @IsBoolean()
  retrieval?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Web results for each user message' })
  @IsOptional()
  @IsBoolean()
  webSearch?: boolean;
}

export class ReplayJudgeDto {
  @ApiProperty({ example: 'gpt-4o', description: 'The judge model (a model some configured provider serves)' })
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model!: string;

  @ApiPropertyOptional({
    enum: ['original', 'first-arm'],
    default: 'original',
    description: 'Judge each arm against the original answers, or each arm after the first against the first',
  })
  @IsOptional()
  @IsIn(['original', 'first-arm'])
  against?: 'original' | 'first-arm';

  @ApiPropertyOptional({ maxLength: 2000, description: 'What makes an answer better; a sensible default otherwise' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  rubric?: string;

  @ApiPropertyOptional({ description: 'Seeds the order the judge sees the answers in (random otherwise)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;
}

export class ProviderLimitDto {
  @ApiProperty({ description: 'A configured provider' })
  @IsString()
  @Matches(PROVIDER_NAME, { message: 'must be a provider name' })
  name!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 256, description: 'Calls in flight to it at once' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  concurrency?: number;

  @ApiPropertyOptional({ minimum: 0.1, maximum: 10000, description: 'Calls started per second, over the replay' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.1)
  @Max(10_000)
  requestsPerSecond?: number;
}

export class ReplayLimitsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 64, default: 8, description: 'Conversations replayed at once' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  concurrency?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_REPLAY_CONVERSATIONS,
    description:
      'Confirms the size of the batch: the replay is refused when the selection has more conversations. Required ' +
      'above 10 000.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPLAY_CONVERSATIONS)
  maxConversations?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'Only the first n user turns of each conversation' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxTurnsPerConversation?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 2000,
    default: 500,
    description: 'Conversations one workflow run starts before it continues as new (rarely worth changing)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2000)
  conversationsPerRun?: number;

  @ApiPropertyOptional({ type: [ProviderLimitDto], maxItems: 32 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => ProviderLimitDto)
  providers?: ProviderLimitDto[];
}

export class CreateReplayDto {
  @ApiProperty({ type: ReplaySelectionDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ReplaySelectionDto)
  selection!: ReplaySelectionDto;

  @ApiProperty({ type: [ReplayArmDto], minItems: 1, maxItems: MAX_ARMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ARMS)
  @ValidateNested({ each: true })
  @Type(() => ReplayArmDto)
  arms!: ReplayArmDto[];

  @ApiProperty({ enum: REPLAY_MODES, description: '`pinned`: the original history; `trajectory`: the arm’s own' })
  @IsIn(REPLAY_MODES, { message: `must be one of ${REPLAY_MODES.join(', ')}` })
  mode!: ReplayMode;

  @ApiPropertyOptional({ type: ReplayJudgeDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReplayJudgeDto)
  judge?: ReplayJudgeDto;

  @ApiPropertyOptional({ type: ReplayLimitsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReplayLimitsDto)
  limits?: ReplayLimitsDto;
}
