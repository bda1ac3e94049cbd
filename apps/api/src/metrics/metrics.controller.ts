import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AppConfig } from '#libs/config/app-config';
import { ForbiddenError } from '#libs/errors/app-error';
import { ApiMetrics, mayScrape } from '#libs/metrics/metrics';
import { Public } from '../common/public.decorator';
import { ApiProblems } from '../common/problem.responses';
import { APP_CONFIG } from '../infra/di-symbols';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: ApiMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics of this API process (text exposition format)',
    description:
      'Answered to loopback clients only, or, when METRICS_TOKEN is set, to whoever presents it as ' +
      '`Authorization: Bearer`. Labels are bounded: route templates, codes and actions, never ids.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics' })
  @ApiProblems(403)
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!mayScrape(this.config.metrics.token, req.header('authorization'), req.socket.remoteAddress)) {
      throw new ForbiddenError(
        this.config.metrics.token
          ? 'The metrics need the METRICS_TOKEN bearer token'
          : 'The metrics are served to loopback clients only (set METRICS_TOKEN to scrape from elsewhere)',
      );
    }
    const { contentType, body } = await this.metrics.exposition();
    // `end`, not `send`: Express would move the charset in front of the exposition format's version.
    res.status(200).setHeader('Content-Type', contentType).setHeader('Cache-Control', 'no-store').end(body);
  }
}
