import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditWriter } from '#libs/audit/audit-writer';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { PasswordHasher } from '#libs/auth/password-hasher';
import { SecretBox } from '#libs/auth/secret-box';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { TwoFactorService } from './mfa/two-factor.service';
import { SessionRevocations } from './session-revocations';
import { SessionService } from './session.service';

@Module({
  controllers: [AuthController],
  providers: [
    AuthService,
    SessionService,
    SessionRevocations,
    {
      provide: TwoFactorService,
      inject: [DATABASE, APP_CONFIG, AuditWriter],
      useFactory: (db: Database, config: AppConfig, audit: AuditWriter) =>
        new TwoFactorService(db, new SecretBox(config.auth.totpEncryptionKey), audit),
    },
    {
      provide: AccessTokenCodec,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new AccessTokenCodec({
          keys: config.auth.tokenKeys,
          currentKeyId: config.auth.currentKeyId,
          issuer: config.auth.issuer,
          audience: config.auth.audience,
          ttlSeconds: config.auth.accessTokenTtlSeconds,
        }),
    },
    {
      provide: PasswordHasher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new PasswordHasher(config.auth.passwordPepper, config.auth.bcryptCost),
    },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AccessTokenCodec],
})
export class AuthModule {}
