import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';
import { PageQuery } from '../../common/page.query';
import { queryBoolean } from '../../common/query-boolean';

export class ListConversationsQuery extends PageQuery {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Archived conversations only (`true`) or unarchived only (`false`, the default)',
  })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean({ message: 'must be true or false' })
  archived?: boolean;

  @ApiPropertyOptional({ maxLength: 200, description: 'Part of the title (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxCodePoints(200)
  @Matches(/\S/, { message: 'must contain more than white space' })
  q?: string;
}
