import { DEFAULT_SECURITY_OPTIONS, resolveSecurityOptions } from './security.options';

describe('resolveSecurityOptions', () => {
  it('defaults to 20/min per IP on auth, 60/min per user on chat, 30/min per user on files, 5 failures in 15 min lock for 15 min up to 24 h', () => {
    expect(resolveSecurityOptions()).toEqual({
      rateLimits: {
        auth: { limit: 20, windowSeconds: 60, by: 'ip' },
        chat: { limit: 60, windowSeconds: 60, by: 'user' },
        files: { limit: 30, windowSeconds: 60, by: 'user' },
        search: { limit: 60, windowSeconds: 60, by: 'user' },
      },
      lockout: {
        maxFailures: 5,
        failureWindowSeconds: 900,
        baseLockSeconds: 900,
        maxLockSeconds: 86_400,
        escalationMemorySeconds: 86_400,
      },
    });
  });

  it('applies overrides without touching the defaults', () => {
    const options = resolveSecurityOptions({
      rateLimits: { auth: { limit: 3, windowSeconds: 1 } },
      lockout: { maxFailures: 3 },
    });
    expect(options.rateLimits.auth).toEqual({ limit: 3, windowSeconds: 1, by: 'ip' });
    expect(options.rateLimits.chat).toEqual(DEFAULT_SECURITY_OPTIONS.rateLimits.chat);
    expect(options.lockout.maxFailures).toBe(3);
    options.rateLimits.chat.limit = 1;
    expect(DEFAULT_SECURITY_OPTIONS.rateLimits.chat.limit).toBe(60);
  });

  it('names every bad setting', () => {
    expect(() =>
      resolveSecurityOptions({
        rateLimits: { chat: { limit: 0 } },
        lockout: { baseLockSeconds: 2.5, maxLockSeconds: 1 },
      }),
    ).toThrow(
      /rateLimits\.chat\.limit must be a positive integer, got 0[\s\S]*lockout\.baseLockSeconds must be a positive integer, got 2\.5[\s\S]*maxLockSeconds must not be below/,
    );
  });
});
