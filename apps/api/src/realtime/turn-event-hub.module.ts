import { Global, Inject, Module, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TurnEventHub } from '#libs/events/turn-event-hub';
import type { Logger } from '#libs/logging/logger';
import { ApiMetrics } from '#libs/metrics/metrics';
import { LOGGER, REDIS } from '../infra/di-symbols';

/**
 * The process's one shared reader of turn event streams, used by SSE (TurnsService) and the WebSocket alike. Closed
 * first on shutdown, which ends every open stream so the HTTP server can close (clients resume elsewhere).
 */
@Global()
@Module({
  providers: [
    {
      provide: TurnEventHub,
      inject: [REDIS, LOGGER, ApiMetrics],
      useFactory: (redis: Redis, logger: Logger, metrics: ApiMetrics) =>
        new TurnEventHub(redis, logger, { onDelivered: (lagMs) => metrics.eventHubLag.observe(lagMs / 1000) }),
    },
  ],
  exports: [TurnEventHub],
})
export class TurnEventHubModule implements OnModuleDestroy {
  constructor(@Inject(TurnEventHub) private readonly hub: TurnEventHub) {}

  async onModuleDestroy(): Promise<void> {
    await this.hub.close();
  }
}
