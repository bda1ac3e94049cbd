import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '#libs/config/app-config';
import { deploymentTools } from '#libs/tools/deployment-tools';
import { ToolRegistry } from '#libs/tools/tool-registry';
import { APP_CONFIG } from '../infra/di-symbols';
import { ToolsController } from './tools.controller';

/**
 * `GET /tools` and the {@link ToolRegistry} built from the configuration, the same one the worker runs. Global, so that
 * sending a message can refuse a tool this deployment does not offer before a turn starts.
 */
@Global()
@Module({
  controllers: [ToolsController],
  providers: [
    { provide: ToolRegistry, useFactory: (config: AppConfig) => deploymentTools(config), inject: [APP_CONFIG] },
  ],
  exports: [ToolRegistry],
})
export class ToolsModule {}
