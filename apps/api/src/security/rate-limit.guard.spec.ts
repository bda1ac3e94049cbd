import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { loadConfig } from '#libs/config/load-config';
import { AppError } from '#libs/errors/app-error';
import { decideRateLimit } from './rate-limit-decision';
import { RateLimit } from './rate-limit.decorator';
import { RateLimitGuard } from './rate-limit.guard';
import type { RateLimiter } from './rate-limiter';
import { RateLimitPolicyName, securityOptionsFrom } from './security.options';

@RateLimit('auth')
class AuthLike {
  login(): void {}
  @RateLimit('chat')
  send(): void {}
}

class Unlimited {
  open(): void {}
}

/** Counts in memory like the Redis script does, so the guard's keying and headers can be checked. */
function fakeLimiter(limit: number) {
  const counts = new Map<string, number>();
  const hits: string[] = [];
  const limiter = {
    hit: (policy: RateLimitPolicyName, subject: string) => {
      const key = `${policy}:${subject}`;
      hits.push(key);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return Promise.resolve(decideRateLimit({ limit, windowSeconds: 60, count, resetMs: 30_000 }));
    },
  } as unknown as RateLimiter;
  return { limiter, hits };
}

function context(target: object, method: string, req: Partial<Request>) {
  const headers: Record<string, string> = {};
  const res = { setHeader: (name: string, value: string) => (headers[name] = value) } as unknown as Response;
  const ctx = {
    getType: () => 'http',
    getHandler: () => (target as Record<string, unknown>)[method],
    getClass: () => (target as { constructor: unknown }).constructor,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  return { ctx, headers };
}

describe('RateLimitGuard', () => {
  const options = securityOptionsFrom(
    loadConfig({
      PASETO_KEYS: `k1:k4.local.${Buffer.alloc(32, 1).toString('base64url')}`,
      PASSWORD_PEPPER: 'a-pepper-of-24-characters',
      TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
    }).security,
  );

  it('counts auth routes per client address and sets the RateLimit headers', async () => {
    const { limiter, hits } = fakeLimiter(2);
    const guard = new RateLimitGuard(new Reflector(), limiter, options);
    const req = {
      ip: '::ffff:203.0.113.9',
      principal: { userId: 'u1', sessionId: 's', role: 'user' as const, scopes: [], kind: 'session' as const },
    };
    const { ctx, headers } = context(AuthLike.prototype, 'login', req);
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(hits).toEqual(['auth:ip:203.0.113.9']);
    expect(headers).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '30' });
  });

  it('counts per-user routes by the caller, whatever its address, and refuses past the limit with 429', async () => {
    const { limiter, hits } = fakeLimiter(1);
    const guard = new RateLimitGuard(new Reflector(), limiter, options);
    const principal = { userId: 'u1', sessionId: 's', role: 'user' as const, scopes: [], kind: 'session' as const };
    await guard.canActivate(context(AuthLike.prototype, 'send', { ip: '10.0.0.1', principal }).ctx);
    const second = context(AuthLike.prototype, 'send', { ip: '10.0.0.2', principal });
    const refused = await guard.canActivate(second.ctx).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((refused as AppError).extra.headers).toMatchObject({ 'Retry-After': '30', 'RateLimit-Remaining': '0' });
    expect(second.headers['RateLimit-Remaining']).toBe('0');
    expect(hits).toEqual(['chat:user:u1', 'chat:user:u1']);
  });

  it('falls back to the address when a per-user route has no caller', async () => {
    const { limiter, hits } = fakeLimiter(5);
    const guard = new RateLimitGuard(new Reflector(), limiter, options);
    await guard.canActivate(context(AuthLike.prototype, 'send', { ip: '198.51.100.4' }).ctx);
    expect(hits).toEqual(['chat:ip:198.51.100.4']);
  });

  it('counts a request once even when the guard runs twice, and ignores routes without a policy', async () => {
    const { limiter, hits } = fakeLimiter(5);
    const guard = new RateLimitGuard(new Reflector(), limiter, options);
    const req = { ip: '198.51.100.4' };
    await guard.canActivate(context(AuthLike.prototype, 'login', req).ctx);
    await guard.canActivate(context(AuthLike.prototype, 'login', req).ctx);
    await guard.canActivate(context(Unlimited.prototype, 'open', { ip: '198.51.100.4' }).ctx);
    expect(hits).toEqual(['auth:ip:198.51.100.4']);
  });

  it('lets the request through when the limiter cannot answer', async () => {
    const limiter = { hit: () => Promise.resolve(undefined) } as unknown as RateLimiter;
    const guard = new RateLimitGuard(new Reflector(), limiter, options);
    const { ctx, headers } = context(AuthLike.prototype, 'login', { ip: '198.51.100.4' });
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(headers).toEqual({});
  });
});
