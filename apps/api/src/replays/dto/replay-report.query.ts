import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { REPLAY_REPORT_FORMATS, type ReplayReportFormat } from '#libs/replay/replay-report';

export class ReplayReportQuery {
  @ApiPropertyOptional({
    enum: REPLAY_REPORT_FORMATS,
    default: 'json',
    description: '`json`: everything; `csv`: one row per arm and one for the originals; `md`: for reading',
  })
  @IsOptional()
  @IsIn(REPLAY_REPORT_FORMATS, { message: `must be one of ${REPLAY_REPORT_FORMATS.join(', ')}` })
  format?: ReplayReportFormat;
}
