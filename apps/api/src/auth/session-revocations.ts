import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import type { Logger } from '#libs/logging/logger';
import { APP_CONFIG, DATABASE, LOGGER, REDIS } from '../infra/di-symbols';

/** Written after MySQL's recent revocations were copied into Redis; gone when Redis lost its keys (flush, restart). */
const COPIED_MARKER = 'revoked-sessions:copied';

/**
 * What one process knows about its Redis connection's copy of the revocations: `trusted` only after this process
 * copied MySQL's recent revocations in over the current connection (or found the marker of a copy). Shared by every
 * SessionRevocations on one client, so a failure seen by one (an admin action) is seen by the guard's too.
 */
interface CopyState {
  trusted: boolean;
  /** Bumped whenever Redis may have missed a revocation: a copy started before that does not make Redis trusted. */
  epoch: number;
  copying?: Promise<void>;
}
const states = new WeakMap<Redis, CopyState>();

/**
 * Revoked sessions, refused by every API instance at once. MySQL is the record (`sessions.revoked_at`, written
 * first by the callers); Redis holds the ids revoked within the last access-token lifetime, so a request costs one
 * Redis round trip. Redis is believed only while it provably holds all of them — its marker key is there and this
 * process has not lost its connection since it last looked — otherwise MySQL answers, and the recent revocations are
 * copied into Redis again. So a revoked token stays refused when Redis is down, flushed or restarted empty.
 */
@Injectable()
export class SessionRevocations {
  private readonly state: CopyState;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    let state = states.get(redis);
    if (!state) {
      const created: CopyState = { trusted: false, epoch: 0 };
      redis.on('close', () => distrust(created));
      // Back after an outage: revocations made meanwhile exist only in MySQL until copied.
      redis.on('ready', () => this.copyFromDatabase());
      states.set(redis, created);
      state = created;
    }
    this.state = state;
  }

  async revoke(sessionId: string): Promise<void> {
    await this.revokeMany([sessionId]);
  }

  /** Tells Redis about sessions already revoked in MySQL. Never fails the caller: MySQL holds them either way. */
  async revokeMany(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    try {
      const batch = this.redis.multi();
      for (const sessionId of sessionIds) batch.set(this.key(sessionId), '1', 'EX', this.ttlSeconds());
      const results = await batch.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (!results || failed) throw failed ?? new Error('Redis discarded the session revocations');
    } catch (error) {
      distrust(this.state); // until they are copied in from MySQL
      this.logger.warn({ err: errorText(error), sessions: sessionIds.length }, 'session revocations not in Redis yet');
    }
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.state.trusted) {
      try {
        const [revoked, copied] = await this.redis.mget(this.key(sessionId), COPIED_MARKER);
        if (revoked !== null) return true;
        if (copied !== null) return false;
        distrust(this.state); // the marker is gone: Redis lost its keys
      } catch {
        distrust(this.state);
      }
    }
    if (this.redis.status === 'ready') this.copyFromDatabase(); // else the 'ready' event will

    const session = await this.db.sessions.findById(sessionId);
    return session === null || session.revokedAt !== null;
  }

  /** Copies the revocations of the last access-token lifetime from MySQL into Redis, once at a time, in the background. */
  private copyFromDatabase(): void {
    const state = this.state;
    if (state.copying) return;
    const epoch = state.epoch;
    state.copying = (async () => {
      const since = new Date(Date.now() - this.ttlSeconds() * 1000);
      const revoked = await this.db.sessions.revokedSince(since);
      const batch = this.redis.multi();
      for (const { id, revokedAt } of revoked) {
        const leftMs = revokedAt.getTime() + this.ttlSeconds() * 1000 - Date.now();
        if (leftMs > 0) batch.set(this.key(id), '1', 'PX', leftMs);
      }
      batch.set(COPIED_MARKER, new Date().toISOString());
      const results = await batch.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (!results || failed) throw failed ?? new Error('Redis discarded the copied revocations');
      if (state.epoch === epoch) state.trusted = true;
    })()
      .catch((error: unknown) => this.logger.warn({ err: errorText(error) }, 'session revocations not copied to Redis'))
      .finally(() => (state.copying = undefined));
  }

  /** Access tokens live `accessTokenTtlSeconds`; a minute more covers clock skew between instances. */
  private ttlSeconds(): number {
    return this.config.auth.accessTokenTtlSeconds + 60;
  }

  private key(sessionId: string): string {
    return `revoked-session:${sessionId}`;
  }
}

function distrust(state: CopyState): void {
  state.trusted = false;
  state.epoch += 1;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
