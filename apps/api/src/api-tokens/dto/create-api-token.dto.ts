import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { SCOPES, Scope } from '../../security/scopes';

export const MAX_TOKEN_DAYS = 3650;

export class CreateApiTokenDto {
  @ApiProperty({ maxLength: 100, example: 'CI bot' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1, { message: 'must not be empty' })
  @MaxCodePoints(100)
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, minItems: 1, description: 'Only scopes the caller holds itself' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true, message: `each value must be one of ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TOKEN_DAYS, description: 'Never expires when left out' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKEN_DAYS)
  expiresInDays?: number;
}
