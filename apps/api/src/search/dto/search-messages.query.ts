import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';

export class SearchMessagesQuery {
  @ApiProperty({
    minLength: 2,
    maxLength: 200,
    description: 'Words to find (all of them; the last also as a prefix). Boolean operators are ignored.',
  })
  @IsString()
  @MinLength(2)
  @MaxCodePoints(200)
  q!: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}
