import { Global, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ApiMetrics } from '#libs/metrics/metrics';
import { DATA_SOURCE, REDIS } from '../infra/di-symbols';
import { MetricsController } from './metrics.controller';

/** This API process's Prometheus registry (one per app, so tests running several apps keep theirs apart). */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: ApiMetrics,
      inject: [DATA_SOURCE, REDIS],
      useFactory: (db: DataSource, redis: Redis) => {
        const metrics = new ApiMetrics();
        metrics.watchPool(() => (db.driver as unknown as { pool?: unknown }).pool);
        metrics.watchRedis(() => redis.ping());
        // Before any other provider runs a query or duplicates the connection (the event hub's reader does).
        metrics.watchDatabase(db);
        metrics.watchRedisCommands(redis);
        return metrics;
      },
    },
  ],
  exports: [ApiMetrics],
})
export class MetricsModule {}
