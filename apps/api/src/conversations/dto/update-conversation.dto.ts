import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { ToolNames } from '../../tools/tool-names.decorator';
import { MODEL_NAME } from './create-conversation.dto';

/** Present in the body, even as null: null is refused where it means nothing. */
const given = (_: object, value: unknown): boolean => value !== undefined;

/** Every field is optional, but at least one must be given. `null` clears `model`, `systemPrompt` and `tools`. */
export class UpdateConversationDto {
  @ApiPropertyOptional({ maxLength: 200, description: 'Owner or write sharee' })
  @ValidateIf(given)
  @IsString()
  @MinLength(1)
  @MaxCodePoints(200)
  @Matches(/\S/, { message: 'must contain more than white space' })
  title?: string;

  @ApiPropertyOptional({ description: 'Owner only; archived conversations leave the default list' })
  @ValidateIf(given)
  @IsBoolean()
  archived?: boolean;

  @ApiPropertyOptional({ nullable: true, description: "Owner only; null: the server's default model" })
  @IsOptional()
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be a model name (letters, digits and ._:/@-)' })
  model?: string | null;

  @ApiPropertyOptional({ nullable: true, maxLength: 20000, description: 'Owner only; null: none' })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  systemPrompt?: string | null;

  @ToolNames(
    'Owner only: tools the model may call when a message names none (names from GET /tools); [] or null: none',
    { nullable: true },
  )
  tools?: string[] | null;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Switch branch (owner or write sharee): any message of this conversation becomes the end of the shown ' +
      'branch; the next message without parentMessageId continues from it.',
  })
  @ValidateIf(given)
  @IsUUID('all', { message: 'must be a UUID' })
  currentMessageId?: string;
}
