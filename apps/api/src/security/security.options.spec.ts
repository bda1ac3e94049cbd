import { ConfigError, loadConfig } from '#libs/config/load-config';
import { securityOptionsFrom } from './security.options';

/** Secrets given, so loading the configuration writes no development secrets anywhere. */
const secrets = {
  PASETO_KEYS: `k1:k4.local.${Buffer.alloc(32, 1).toString('base64url')}`,
  PASSWORD_PEPPER: 'a-pepper-of-24-characters',
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
};

const optionsOf = (env: Record<string, string> = {}) =>
  securityOptionsFrom(loadConfig({ ...secrets, ...env }).security);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...secrets, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('securityOptionsFrom', () => {
  it('defaults (from the configuration schema) to 20/min per IP on auth, 60/min per user on chat and search, 30/min per user on files, 5 failures in 15 min lock for 15 min up to 24 h', () => {
    expect(optionsOf()).toEqual({
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

  it('takes RATE_LIMIT_* and LOGIN_LOCKOUT_* from the environment', () => {
    const options = optionsOf({
      RATE_LIMIT_AUTH_MAX: '3',
      RATE_LIMIT_AUTH_WINDOW_SECONDS: '1',
      RATE_LIMIT_FILES_MAX: '7',
      LOGIN_LOCKOUT_MAX_FAILURES: '3',
      LOGIN_LOCKOUT_BASE_SECONDS: '10',
      LOGIN_LOCKOUT_MAX_SECONDS: '10',
    });
    expect(options.rateLimits.auth).toEqual({ limit: 3, windowSeconds: 1, by: 'ip' });
    expect(options.rateLimits.files).toEqual({ limit: 7, windowSeconds: 60, by: 'user' });
    expect(options.rateLimits.chat).toEqual({ limit: 60, windowSeconds: 60, by: 'user' });
    expect(options.lockout).toMatchObject({ maxFailures: 3, baseLockSeconds: 10, maxLockSeconds: 10 });
  });

  it('answers a fresh object, so changing the live options (as e2e tests do) leaves the configuration alone', () => {
    const config = loadConfig(secrets);
    const options = securityOptionsFrom(config.security);
    options.rateLimits.chat.limit = 1;
    options.lockout.maxFailures = 1;
    expect(config.security.rateLimits.chat.limit).toBe(60);
    expect(config.security.lockout.maxFailures).toBe(5);
    expect(securityOptionsFrom(config.security).rateLimits.chat.limit).toBe(60);
  });

  it('never starts with a bad setting: each is named by its variable', () => {
    const problems = problemsOf({ RATE_LIMIT_CHAT_MAX: '0', LOGIN_LOCKOUT_BASE_SECONDS: '2.5' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'LOGIN_LOCKOUT_BASE_SECONDS',
      'RATE_LIMIT_CHAT_MAX',
    ]);
  });

  it('never starts with a lockout cap below its base lock', () => {
    expect(problemsOf({ LOGIN_LOCKOUT_BASE_SECONDS: '600', LOGIN_LOCKOUT_MAX_SECONDS: '60' })).toEqual([
      'LOGIN_LOCKOUT_MAX_SECONDS: must not be below LOGIN_LOCKOUT_BASE_SECONDS',
    ]);
  });
});
