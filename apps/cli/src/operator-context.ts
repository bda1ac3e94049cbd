import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AuditWriter } from '#libs/audit/audit-writer';
import { PasswordHasher } from '#libs/auth/password-hasher';
import type { AppConfig } from '#libs/config/app-config';
import { temporalConnectionOptions } from '#libs/config/temporal-connection';
import { tracingClientInterceptors } from '#libs/telemetry/client-tracing';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import { createDataSource } from '#libs/db/data-source';
import { createDatabase, type Database } from '#libs/db/database';
import type { UserEntity } from '#libs/db/entities/user.entity';
import { createLogger, type Logger } from '#libs/logging/logger';
import { AdminUsersService } from '../../api/src/admin/admin-users.service';
import { SessionRevocations } from '../../api/src/auth/session-revocations';
import type { ClientInfo } from '../../api/src/common/client-info';
import { LoginLockout } from '../../api/src/security/login-lockout';
import { securityOptionsFrom } from '../../api/src/security/security.options';
import { CommandError } from './command';

/**
 * The deployment as the operator CLI reaches it, each connection opened on first use and closed by {@link close}:
 * MySQL through the repositories, Redis for session revocations and lockouts, Temporal for the batch workflows. The
 * account changes go through the API's own services, so they behave (and are audited) exactly as the admin routes.
 */
export class OperatorContext {
  private dataSource?: DataSource;
  private db?: Database;
  private redisClient?: Redis;
  private temporalClient?: Client;
  /** Audit rows written by the CLI carry this request id and user agent, and no address. */
  readonly client: ClientInfo;

  constructor(
    private readonly loaded: AppConfig | undefined,
    runId: string,
  ) {
    this.client = { ip: null, userAgent: 'gigachat-cli', requestId: `cli-${runId}` };
  }

  get logLevel(): AppConfig['logLevel'] | undefined {
    return this.loaded?.logLevel;
  }

  /** Warnings for the operator on stderr (a revocation Redis did not take, MySQL holding it). */
  get logger(): Logger {
    return createLogger({ level: this.loaded?.logLevel ?? 'warn', name: 'gigachat-cli', destination: process.stderr });
  }

  get config(): AppConfig {
    if (!this.loaded) throw new Error('this command runs without the configuration');
    return this.loaded;
  }

  async database(): Promise<Database> {
    if (!this.db) {
      this.dataSource = await createDataSource(this.config.database.url, 2).initialize();
      this.db = createDatabase(this.dataSource);
    }
    return this.db;
  }

  async redis(): Promise<Redis> {
    if (!this.redisClient) {
      const redis = new Redis(this.config.redis.url, {
        keyPrefix: this.config.redis.keyPrefix,
        lazyConnect: true,
        maxRetriesPerRequest: 2,
      });
      await redis.connect();
      this.redisClient = redis;
    }
    return this.redisClient;
  }

  async temporal(): Promise<Client> {
    if (!this.temporalClient) {
      const connection = await Connection.connect(temporalConnectionOptions(this.config.temporal));
      this.temporalClient = new Client({
        connection,
        namespace: this.config.temporal.namespace,
        dataConverter: temporalDataConverter(this.config.temporal),
        // With tracing on, the workflows a command starts join its trace.
        interceptors: { workflow: tracingClientInterceptors() },
      });
    }
    return this.temporalClient;
  }

  async audit(): Promise<AuditWriter> {
    return new AuditWriter(await this.database());
  }

  passwordHasher(): PasswordHasher {
    return new PasswordHasher(this.config.auth.passwordPepper, this.config.auth.bcryptCost);
  }

  async sessionRevocations(): Promise<SessionRevocations> {
    return new SessionRevocations(await this.redis(), await this.database(), this.config, this.logger);
  }

  /** The admin routes' service: role and disabled changes end sessions at once, and are audited the same way. */
  async adminUsers(): Promise<AdminUsersService> {
    const db = await this.database();
    const redis = await this.redis();
    return new AdminUsersService(
      db,
      new LoginLockout(redis, securityOptionsFrom(this.config.security)),
      new SessionRevocations(redis, db, this.config, this.logger),
      new AuditWriter(db),
    );
  }

  /** The account with this (normalised) address, or a refusal naming it. */
  async userByEmail(email: string): Promise<UserEntity> {
    const user = await (await this.database()).users.findByEmail(email);
    if (!user) throw new CommandError(`no account has the address ${email}`);
    return user;
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.temporalClient?.connection.close(),
      this.redisClient?.quit(),
      this.dataSource?.destroy(),
    ]);
  }
}
