import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiProblems } from '../common/problem.responses';
import { RATE_LIMIT_POLICY, RateLimitGuard } from './rate-limit.guard';
import type { RateLimitPolicyName } from './security.options';

/**
 * Limits a route (or every route of a controller) by the named policy of the security options. Route guards run
 * after the global auth guard, so per-user policies see the caller. Put it on a controller or on its routes, not
 * both (a method's policy overrides the controller's, and the request is counted once either way).
 */
export const RateLimit = (policy: RateLimitPolicyName): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(RATE_LIMIT_POLICY, policy), UseGuards(RateLimitGuard), ApiProblems(429));
