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

export const DEFAULT_SECURITY_OPTIONS: SecurityOptions = {
  rateLimits: {
    auth: { limit: 20, windowSeconds: 60, by: 'ip' },
    chat: { limit: 60, windowSeconds: 60, by: 'user' },
    files: { limit: 30, windowSeconds: 60, by: 'user' },
    search: { limit: 60, windowSeconds: 60, by: 'user' },
  },
  lockout: {
    maxFailures: 5,
    failureWindowSeconds: 15 * 60,
    baseLockSeconds: 15 * 60,
    maxLockSeconds: 24 * 60 * 60,
    escalationMemorySeconds: 24 * 60 * 60,
  },
};

export interface SecurityOverrides {
  rateLimits?: { [name in RateLimitPolicyName]?: Partial<Omit<RateLimitPolicy, 'by'>> };
  lockout?: Partial<LockoutOptions>;
}

/**
 * The defaults with `overrides` applied, validated: every number must be a positive integer, and a lock
 * can never be shorter than its base. Throws an Error naming each bad setting.
 */
export function resolveSecurityOptions(overrides: SecurityOverrides = {}): SecurityOptions {
  const rateLimits = {} as Record<RateLimitPolicyName, RateLimitPolicy>;
  for (const name of Object.keys(DEFAULT_SECURITY_OPTIONS.rateLimits) as RateLimitPolicyName[]) {
    rateLimits[name] = { ...DEFAULT_SECURITY_OPTIONS.rateLimits[name], ...overrides.rateLimits?.[name] };
  }
  const options: SecurityOptions = {
    rateLimits,
    lockout: { ...DEFAULT_SECURITY_OPTIONS.lockout, ...overrides.lockout },
  };

  const problems: string[] = [];
  const positive = (path: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${path} must be a positive integer, got ${value}`);
  };
  for (const [name, policy] of Object.entries(options.rateLimits)) {
    positive(`rateLimits.${name}.limit`, policy.limit);
    positive(`rateLimits.${name}.windowSeconds`, policy.windowSeconds);
  }
  for (const [name, value] of Object.entries(options.lockout)) positive(`lockout.${name}`, value as number);
  if (options.lockout.maxLockSeconds < options.lockout.baseLockSeconds) {
    problems.push('lockout.maxLockSeconds must not be below lockout.baseLockSeconds');
  }
  if (problems.length > 0) throw new Error(`Invalid security options:\n  - ${problems.join('\n  - ')}`);
  return options;
}
