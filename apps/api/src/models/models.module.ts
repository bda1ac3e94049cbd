import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '#libs/config/app-config';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { APP_CONFIG } from '../infra/di-symbols';
import { ModelsController } from './models.controller';

/**
 * `GET /models` and the {@link ModelCatalog} built from the configuration, the same one the worker falls back along.
 * Global, so that sending a message can refuse a model nobody serves before a turn starts.
 */
@Global()
@Module({
  controllers: [ModelsController],
  providers: [
    {
      provide: ModelCatalog,
      useFactory: (config: AppConfig) => new ModelCatalog(config.llm.providers, config.llm.model),
      inject: [APP_CONFIG],
    },
  ],
  exports: [ModelCatalog],
})
export class ModelsModule {}
