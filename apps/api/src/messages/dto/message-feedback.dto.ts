import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { FEEDBACK_RATINGS, FeedbackRating } from '#libs/db/entities/message-feedback.entity';
import { MaxCodePoints } from '../../common/max-code-points.validator';

export class MessageFeedbackDto {
  @ApiProperty({ enum: FEEDBACK_RATINGS })
  @IsIn(FEEDBACK_RATINGS, { message: `must be one of ${FEEDBACK_RATINGS.join(', ')}` })
  rating!: FeedbackRating;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'Replaces an earlier comment; null clears it' })
  @IsOptional()
  @IsString()
  @MaxCodePoints(2000)
  comment?: string | null;
}
