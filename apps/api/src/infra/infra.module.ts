import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '#libs/config/app-config';
import { temporalConnectionOptions } from '#libs/config/temporal-connection';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import { createDataSource } from '#libs/db/data-source';
import { createDatabase } from '#libs/db/database';
import type { Logger } from '#libs/logging/logger';
import { createObjectStore } from '#libs/storage/create-object-store';
import { tracingClientInterceptors } from '#libs/telemetry/client-tracing';
import { shutdownTracing } from '#libs/telemetry/tracing';
import { APP_CONFIG, DATA_SOURCE, DATABASE, LOGGER, OBJECT_STORE, REDIS, TEMPORAL_CLIENT } from './di-symbols';

export interface InfraOptions {
  config: AppConfig;
  logger: Logger;
}

/** MySQL, Redis, Temporal and object store clients, created once and closed on shutdown. */
@Global()
@Module({})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
  ) {}

  static forRoot({ config, logger }: InfraOptions) {
    return {
      module: InfraModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        {
          provide: DATA_SOURCE,
          useFactory: async () => createDataSource(config.database.url, config.database.poolSize).initialize(),
        },
        {
          provide: DATABASE,
          inject: [DATA_SOURCE],
          useFactory: (dataSource: DataSource) => createDatabase(dataSource),
        },
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = new Redis(config.redis.url, {
              keyPrefix: config.redis.keyPrefix,
              lazyConnect: true,
              maxRetriesPerRequest: 2,
              enableOfflineQueue: false,
            });
            redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis error'));
            await redis.connect();
            return redis;
          },
        },
        {
          provide: TEMPORAL_CLIENT,
          useFactory: async () => {
            const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
            return new Client({
              connection,
              namespace: config.temporal.namespace,
              dataConverter: temporalDataConverter(config.temporal),
              interceptors: { workflow: tracingClientInterceptors() },
            });
          },
        },
        {
          provide: OBJECT_STORE,
          useFactory: async () => {
            const store = createObjectStore({
              s3: config.files.s3,
              localDir: config.files.localDir,
              encryptionKeys: config.files.encryptionKeys,
            });
            // An unreachable S3 server does not keep the API from starting: /health/ready reports it.
            await store.ensureReady().catch((error: unknown) => {
              logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'object store not ready');
            });
            return store;
          },
        },
      ],
      exports: [APP_CONFIG, LOGGER, DATA_SOURCE, DATABASE, REDIS, TEMPORAL_CLIENT, OBJECT_STORE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.temporal.connection.close(), this.redis.quit(), this.db.destroy()]);
    await shutdownTracing(); // the last spans, when tracing is on
  }
}
