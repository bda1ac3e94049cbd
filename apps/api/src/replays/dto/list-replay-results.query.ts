import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { REPLAY_BUCKETS, type ReplayBucket } from '#libs/contracts/replay.contract';
import { PageQuery } from '../../common/page.query';
import { MAX_ARMS } from './create-replay.dto';

export class ListReplayResultsQuery extends PageQuery {
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_ARMS - 1, description: "Only this arm's answers (its index)" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_ARMS - 1)
  arm?: number;

  @ApiPropertyOptional({ enum: REPLAY_BUCKETS, description: 'Only answers in this bucket' })
  @IsOptional()
  @IsIn(REPLAY_BUCKETS, { message: `must be one of ${REPLAY_BUCKETS.join(', ')}` })
  bucket?: ReplayBucket;
}
