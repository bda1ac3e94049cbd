import type { AppConfig } from '#libs/config/app-config';

/** Names of the rate-limit policies routes can opt into with `@RateLimit(name)`. */
export type RateLimitPolicyName = 'auth' | 'chat' | 'files' | 'search';

export interface RateLimitPolicy {
  /** Requests allowed per window. */
  limit: number;
  /** Fixed window length, in seconds. */
  windowSeconds: number;
  /** Who a request counts against: its client address, or its authenticated user (falls back to the address). */
  by: 'ip' | 'user';
}

export interface LockoutOptions {
  /** Failed logins for one account, within `failureWindowSeconds`, that lock it. */
  maxFailures: number;
  failureWindowSeconds: number;
  /** The first lock; each repeat lock doubles it, up to `maxLockSeconds`. */
  baseLockSeconds: number;
  maxLockSeconds: number;
  /** How long the escalation level is remembered after the last lock. */
  escalationMemorySeconds: number;
}

export interface SecurityOptions {
  rateLimits: Record<RateLimitPolicyName, RateLimitPolicy>;
  lockout: LockoutOptions;
}

/** Injection token for the {@link SecurityOptions} in effect. */
export const SECURITY_OPTIONS = Symbol('SECURITY_OPTIONS');

/** Who each policy counts against: a property of the routes it guards, not a setting. */
const COUNTED_BY: Record<RateLimitPolicyName, RateLimitPolicy['by']> = {
  auth: 'ip',
  chat: 'user',
  files: 'user',
  search: 'user',
};

/**
 * The options in effect, from the configuration (RATE_LIMIT_*, LOGIN_LOCKOUT_*). Their defaults and bounds are
 * written once, in `config.schema.ts`; `loadConfig` refuses to start when a value is out of bounds or the lockout cap
 * is below its base lock, naming the variable. A fresh object each time: tests adjust the live one at run time.
 */
export function securityOptionsFrom(config: AppConfig['security']): SecurityOptions {
  const rateLimits = {} as Record<RateLimitPolicyName, RateLimitPolicy>;
  for (const name of Object.keys(COUNTED_BY) as RateLimitPolicyName[]) {
    rateLimits[name] = { ...config.rateLimits[name], by: COUNTED_BY[name] };
  }
  return { rateLimits, lockout: { ...config.lockout } };
}
