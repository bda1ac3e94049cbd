import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from '#libs/logging/logger';
import { LOGGER, REDIS } from '../infra/di-symbols';
import { decideRateLimit, RateLimitDecision } from './rate-limit-decision';
import { RateLimitPolicyName, SECURITY_OPTIONS, SecurityOptions } from './security.options';

/**
 * Fixed-window counter: one atomic INCR, the window starts with the first request (and the expiry is repaired if a
 * key somehow lost it). KEYS: counter. ARGV: window (ms). Returns {count, ms left in the window}.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
`;

/** Request counters in Redis, shared by every API instance. */
@Injectable()
export class RateLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Counts one request of `subject` under `policyName`. When Redis cannot answer the request is let through
   * (and logged): a Redis outage should not turn into an API outage; lockout still protects passwords.
   */
  async hit(policyName: RateLimitPolicyName, subject: string): Promise<RateLimitDecision | undefined> {
    const policy = this.options.rateLimits[policyName];
    try {
      const [count, left] = (await this.redis.eval(
        HIT,
        1,
        `ratelimit:${policyName}:${subject}`,
        policy.windowSeconds * 1000,
      )) as [number, number];
      return decideRateLimit({ limit: policy.limit, windowSeconds: policy.windowSeconds, count, resetMs: left });
    } catch (error) {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error), policy: policyName },
        'rate limiter unavailable; request allowed',
      );
      return undefined;
    }
  }
}
