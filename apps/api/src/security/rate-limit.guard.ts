import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { clientAddressKey } from './client-address';
import { RateLimitedError } from './rate-limited.error';
import { RateLimiter } from './rate-limiter';
import { RateLimitPolicyName, SECURITY_OPTIONS, SecurityOptions } from './security.options';

/** Metadata key of `@RateLimit(policy)`. */
export const RATE_LIMIT_POLICY = 'gigachat:rateLimitPolicy';

/** Requests already counted, so a guard applied twice (controller and route) counts a request once. */
const counted = new WeakSet<Request>();

/** Applies the `@RateLimit(policy)` of a route: sets the RateLimit-* headers, refuses with 429 past the limit. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const name = this.reflector.getAllAndOverride<RateLimitPolicyName | undefined>(RATE_LIMIT_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!name) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (counted.has(req)) return true;
    counted.add(req);

    const policy = this.options.rateLimits[name];
    const subject =
      policy.by === 'user' && req.principal ? `user:${req.principal.userId}` : `ip:${clientAddressKey(req.ip)}`;
    const decision = await this.limiter.hit(name, subject);
    if (!decision) return true;
    const res = context.switchToHttp().getResponse<Response>();
    for (const [header, value] of Object.entries(decision.headers)) res.setHeader(header, value);
    if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds, decision.headers);
    return true;
  }
}
