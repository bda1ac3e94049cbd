import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '#libs/config/app-config';
import { APP_CONFIG } from '../infra/di-symbols';
import { LoginLockout } from './login-lockout';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';
import { RolesGuard } from './roles.guard';
import { SECURITY_OPTIONS, securityOptionsFrom } from './security.options';

/**
 * Lockout, rate limits and role checks. Global, so `@RateLimit(...)` and `@Roles(...)` work on any controller.
 * The options come from the configuration (RATE_LIMIT_*, LOGIN_LOCKOUT_*), validated when it is loaded.
 */
@Global()
@Module({
  providers: [
    {
      provide: SECURITY_OPTIONS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => securityOptionsFrom(config.security),
    },
    LoginLockout,
    RateLimiter,
    RateLimitGuard,
    RolesGuard,
  ],
  exports: [SECURITY_OPTIONS, LoginLockout, RateLimiter, RateLimitGuard, RolesGuard],
})
export class SecurityModule {}
