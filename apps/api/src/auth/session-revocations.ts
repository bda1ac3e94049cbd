import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '#libs/config/app-config';
import { APP_CONFIG, REDIS } from '../infra/di-symbols';

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
    await this.revokeMany([sessionId]);
  }

  async revokeMany(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const ttl = this.config.auth.accessTokenTtlSeconds + 60;
    const batch = this.redis.multi();
    for (const sessionId of sessionIds) batch.set(this.key(sessionId), '1', 'EX', ttl);
    const results = await batch.exec();
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (!results || failed) throw failed ?? new Error('Redis discarded the session revocations');
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sessionId))) === 1;
  }

  private key(sessionId: string): string {
    return `revoked-session:${sessionId}`;
  }
}
