import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../../libs/config/app-config';
import { APP_CONFIG, REDIS } from '../infra/tokens';

/**
 * Revoked session ids, kept in Redis until every access token of the session has expired,
 * so logout and password change take effect on every API instance at once.
 */
@Injectable()
export class SessionRevocations {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async revoke(sessionId: string): Promise<void> {
    await this.redis.set(this.key(sessionId), '1', 'EX', this.config.auth.accessTokenTtlSeconds + 60);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sessionId))) === 1;
  }

  private key(sessionId: string): string {
    return `revoked-session:${sessionId}`;
  }
}
