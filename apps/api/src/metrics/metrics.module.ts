import { Global, Module } from '@nestjs/common';
import { ApiMetrics } from '#libs/metrics/metrics';
import { MetricsController } from './metrics.controller';

/** This API process's Prometheus registry (one per app, so tests running several apps keep theirs apart). */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: ApiMetrics, useFactory: () => new ApiMetrics() }],
  exports: [ApiMetrics],
})
export class MetricsModule {}
