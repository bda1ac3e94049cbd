import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '#libs/config/app-config';
import { APP_CONFIG } from '../infra/tokens';
import { SessionRevocations } from '../auth/session-revocations';
import { AdminAuditController } from './admin-audit.controller';
import { AdminAuditService } from './admin-audit.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { LoginLockout } from './login-lockout';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';
import { RolesGuard } from './roles.guard';
import { resolveSecurityOptions, SECURITY_OPTIONS } from './security.options';

/**
 * Lockout, rate limits, role checks and the admin routes (users, audit log). Global, so `@RateLimit(...)` and `@Roles(...)` work on any controller.
 * The options come from the configuration (RATE_LIMIT_*, LOGIN_LOCKOUT_*), validated by `resolveSecurityOptions`.
 */
@Global()
@Module({
  controllers: [AdminUsersController, AdminAuditController],
  providers: [
    {
      provide: SECURITY_OPTIONS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => resolveSecurityOptions(config.security),
    },
    LoginLockout,
    RateLimiter,
    RateLimitGuard,
    RolesGuard,
    AdminUsersService,
    AdminAuditService,
    // Stateless (Redis): a second instance beside AuthModule's, so admin actions can end sessions at once.
    SessionRevocations,
  ],
  exports: [SECURITY_OPTIONS, LoginLockout, RateLimiter, RateLimitGuard, RolesGuard],
})
export class SecurityModule {}
