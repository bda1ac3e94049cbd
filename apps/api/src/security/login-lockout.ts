import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { REDIS } from '../infra/di-symbols';
import { AccountLockedError } from './account-locked.error';
import { lockSchedule } from './lockout-schedule';
import { SECURITY_OPTIONS, SecurityOptions } from './security.options';

/**
 * Starts a login attempt. The attempt is counted as a failure *before* the password is checked, so a burst of
 * parallel guesses cannot slip past the limit; a success takes it back.
 *
 * KEYS: failures (sorted set of attempts by time), lock (string, the attempt that locked, with the lock's TTL),
 *       level (consecutive-lock counter).
 * ARGV: attempt id, max failures, failure window (ms), escalation memory (ms), lock seconds for level 1, 2, ….
 * Returns {allowed (0|1), ms (lock TTL left when refused; lock length when this attempt locked), level}.
 */
const BEGIN_ATTEMPT = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {0, left, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then return {1, 0, 0} end
local level = redis.call('INCR', KEYS[3])
local ms = tonumber(ARGV[4 + math.min(level, #ARGV - 4)]) * 1000
redis.call('SET', KEYS[2], ARGV[1], 'PX', ms)
redis.call('PEXPIRE', KEYS[3], ms + tonumber(ARGV[4]))
redis.call('DEL', KEYS[1])
return {1, ms, level}
`;

/** A successful login: forget the failures, and undo the lock if this very attempt was the one that set it. */
const SUCCEED_ATTEMPT = `
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  if redis.call('DECR', KEYS[3]) <= 0 then redis.call('DEL', KEYS[3]) end
end
return 1
`;

/** Admin unlock: lifts the lock and forgets the failures; the escalation level stays. Returns 1 if it was locked. */
const UNLOCK = `
local locked = redis.call('PTTL', KEYS[2]) > 0 and 1 or 0
redis.call('DEL', KEYS[1], KEYS[2])
return locked
`;

/** A login attempt in progress, as {@link LoginLockout.begin} counted it. */
export interface LoginAttempt {
  readonly subject: string;
  readonly id: string;
  /** Present when this attempt reached the limit: the account is now locked unless the attempt succeeds. */
  readonly lock?: { level: number; seconds: number };
}

export interface LockStatus {
  locked: boolean;
  retryAfterSeconds: number;
  /** Consecutive locks remembered for escalation (0 when none). */
  level: number;
}

/**
 * Account lockout after repeated failed logins, kept in Redis so every API instance shares it.
 *
 * The subject is the login email (trimmed, lower-cased), hashed; unknown emails are counted exactly like known
 * ones, so a lock answer never reveals whether an account exists. Each lock lasts twice as long as the previous
 * one (see {@link lockSchedule}); the level is forgotten `escalationMemorySeconds` after the last lock ends.
 */
@Injectable()
export class LoginLockout {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  /** Counts an attempt for `email`; throws {@link AccountLockedError} if the account is locked. */
  async begin(email: string): Promise<LoginAttempt> {
    const subject = lockoutSubject(email);
    const id = randomBytes(12).toString('base64url');
    const { maxFailures, failureWindowSeconds, escalationMemorySeconds, baseLockSeconds, maxLockSeconds } =
      this.options.lockout;
    const reply = (await this.redis.eval(
      BEGIN_ATTEMPT,
      3,
      ...this.keys(subject),
      id,
      maxFailures,
      failureWindowSeconds * 1000,
      escalationMemorySeconds * 1000,
      ...lockSchedule(baseLockSeconds, maxLockSeconds),
    )) as [number, number, number];
    const [allowed, ms, level] = reply;
    if (allowed !== 1) throw new AccountLockedError(Math.max(1, Math.ceil(ms / 1000)));
    return level > 0 ? { subject, id, lock: { level, seconds: ms / 1000 } } : { subject, id };
  }

  /** The attempt succeeded: the failure count starts again from zero. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.redis.eval(SUCCEED_ATTEMPT, 3, ...this.keys(attempt.subject), attempt.id);
  }

  /** Lifts a lock (admin action). Resolves whether the account was locked. */
  async unlock(email: string): Promise<boolean> {
    return (await this.redis.eval(UNLOCK, 3, ...this.keys(lockoutSubject(email)))) === 1;
  }

  async status(email: string): Promise<LockStatus> {
    const [, lock, level] = this.keys(lockoutSubject(email));
    const [left, levelValue] = await Promise.all([this.redis.pttl(lock), this.redis.get(level)]);
    return {
      locked: left > 0,
      retryAfterSeconds: left > 0 ? Math.ceil(left / 1000) : 0,
      level: Number(levelValue ?? 0),
    };
  }

  /** The three keys of one subject share a hash tag, so the scripts also work on Redis Cluster. */
  private keys(subject: string): [failures: string, lock: string, level: string] {
    const base = `login-lockout:{${subject}}`;
    return [`${base}:failures`, `${base}:lock`, `${base}:level`];
  }
}

/** The lockout subject of a login email: SHA-256 of the trimmed, lower-cased address (no address in Redis). */
export function lockoutSubject(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}
