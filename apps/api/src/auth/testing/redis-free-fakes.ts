import { AccountLockedError } from '../../security/account-locked.error';
import type { LockStatus, LoginAttempt, LoginLockout } from '../../security/login-lockout';
import type { SessionRevocations } from '../session-revocations';
import type { PublicOf } from './public-of';

/**
 * LoginLockout's public behaviour without Redis: every attempt counts as a failure until it succeeds; the
 * `maxFailures`-th locks the subject (for `lockSeconds`) until `unlock`, or until the attempt that locked succeeds.
 */
export class FakeLoginLockout implements PublicOf<LoginLockout> {
  private readonly failures = new Map<string, number>();
  private readonly locks = new Map<string, { attemptId: string; level: number }>();
  private attempts = 0;

  constructor(
    private readonly maxFailures = 5,
    private readonly lockSeconds = 900,
  ) {}

  async begin(email: string): Promise<LoginAttempt> {
    const subject = email.trim().toLowerCase();
    if (this.locks.has(subject)) throw new AccountLockedError(this.lockSeconds);
    const id = `attempt-${++this.attempts}`;
    const failures = (this.failures.get(subject) ?? 0) + 1;
    this.failures.set(subject, failures);
    if (failures < this.maxFailures) return { subject, id };
    this.failures.delete(subject);
    this.locks.set(subject, { attemptId: id, level: 1 });
    return { subject, id, lock: { level: 1, seconds: this.lockSeconds } };
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    this.failures.delete(attempt.subject);
    if (this.locks.get(attempt.subject)?.attemptId === attempt.id) this.locks.delete(attempt.subject);
  }

  async unlock(email: string): Promise<boolean> {
    const subject = email.trim().toLowerCase();
    this.failures.delete(subject);
    return this.locks.delete(subject);
  }

  async status(email: string): Promise<LockStatus> {
    const lock = this.locks.get(email.trim().toLowerCase());
    return { locked: !!lock, retryAfterSeconds: lock ? this.lockSeconds : 0, level: lock?.level ?? 0 };
  }

  /** As the real one is injected. */
  asLockout(): LoginLockout {
    return this as unknown as LoginLockout;
  }
}

/** SessionRevocations' public behaviour without Redis: the revoked session ids in a set. */
export class FakeSessionRevocations implements PublicOf<SessionRevocations> {
  readonly revoked = new Set<string>();

  async revoke(sessionId: string): Promise<void> {
    this.revoked.add(sessionId);
  }

  async revokeMany(sessionIds: readonly string[]): Promise<void> {
    for (const id of sessionIds) this.revoked.add(id);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return this.revoked.has(sessionId);
  }

  asRevocations(): SessionRevocations {
    return this as unknown as SessionRevocations;
  }
}
