import type { Redis } from 'ioredis';
import { SecretBox } from '../auth/secret-box';
import type { AppConfig } from '../config/app-config';
import type { Database } from '../db/database';
import type { Logger } from '../logging/logger';
import { RedisCircuitBreaker } from '../resilience/circuit-breaker';
import { McpClientPool } from './mcp-client-pool';
import { RedisRefreshLock } from './refresh-lock';
import { TurnMcpGateway } from './turn-mcp-gateway';
import { mcpOAuthRedirectUrl } from './user-mcp-servers';

/**
 * MCP for chat turns: one client pool per process (connections kept per server), each server behind a Redis breaker
 * every worker shares (the deployment's by name, a user's by its URL), reached through the gateway that knows whose
 * servers a turn may use. `redis` carries the deployment's key prefix.
 */
export function createTurnMcp(
  config: AppConfig,
  deps: { db: Pick<Database, 'mcpServers'>; redis: Redis; logger: Logger },
): { gateway: TurnMcpGateway; pool: McpClientPool } {
  const { failureThreshold, cooldownMs } = config.webSearch.breaker;
  const pool = new McpClientPool({
    logger: deps.logger,
    allowedPrivateNetworks: config.tools.fetchUrlAllowedPrivateNetworks,
    breakerFor: (server) =>
      new RedisCircuitBreaker({
        redis: deps.redis,
        keyPrefix: '',
        name: server.publicOnly ? `mcp:user:${server.url ?? server.name}` : `mcp:${server.name}`,
        failureThreshold,
        cooldownMs,
        logger: deps.logger,
      }),
  });
  const gateway = new TurnMcpGateway({
    pool,
    operatorServers: config.tools.mcpServers,
    db: deps.db,
    box: new SecretBox(config.auth.totpEncryptionKey),
    oauthRedirectUrl: mcpOAuthRedirectUrl(config.api.publicUrl),
    refreshLock: new RedisRefreshLock(deps.redis),
  });
  return { gateway, pool };
}
