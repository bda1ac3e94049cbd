import { Global, Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import type { Logger } from '#libs/logging/logger';
import { TurnMcpGateway } from '#libs/mcp/turn-mcp-gateway';
import { deploymentTools } from '#libs/tools/deployment-tools';
import { ToolRegistry } from '#libs/tools/tool-registry';
import { createTurnMcp } from '#libs/mcp/turn-mcp';
import { APP_CONFIG, DATABASE, LOGGER, REDIS } from '../infra/di-symbols';
import { OfferedTools } from './offered-tools';
import { ToolsController } from './tools.controller';

/** The API's MCP client pool: it lists servers' tools for `GET /tools` (turns call them in the worker). */
const MCP = Symbol('MCP');

/**
 * `GET /tools` and the {@link ToolRegistry} built from the configuration, the same one the worker runs. Global, so that
 * sending a message or setting a conversation's tools can refuse a tool this deployment does not offer
 * ({@link OfferedTools}) before anything is written.
 */
@Global()
@Module({
  controllers: [ToolsController],
  providers: [
    { provide: ToolRegistry, useFactory: (config: AppConfig) => deploymentTools(config), inject: [APP_CONFIG] },
    {
      provide: MCP,
      useFactory: (config: AppConfig, db: Database, redis: Redis, logger: Logger) =>
        createTurnMcp(config, { db, redis, logger }),
      inject: [APP_CONFIG, DATABASE, REDIS, LOGGER],
    },
    { provide: TurnMcpGateway, useFactory: (mcp: ReturnType<typeof createTurnMcp>) => mcp.gateway, inject: [MCP] },
    OfferedTools,
  ],
  exports: [ToolRegistry, OfferedTools],
})
export class ToolsModule implements OnModuleDestroy {
  constructor(@Inject(MCP) private readonly mcp: ReturnType<typeof createTurnMcp>) {}

  async onModuleDestroy(): Promise<void> {
    await this.mcp.pool.close();
  }
}
