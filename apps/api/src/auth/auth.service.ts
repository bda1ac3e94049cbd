import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import { hashOpaqueToken } from '#libs/auth/opaque-token';
import { PasswordHasher } from '#libs/auth/password-hasher';
import { checkPasswordPolicy } from '#libs/auth/password-policy';
import type { AppConfig } from '#libs/config/app-config';
import type { Database, Repositories } from '#libs/db/database';
import { isDuplicateKey } from '#libs/db/database-errors';
import type { InvitationEntity } from '#libs/db/entities/invitation.entity';
import type { UserEntity, UserRole } from '#libs/db/entities/user.entity';
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '#libs/errors/app-error';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';
import { AccountLockedError } from '../security/account-locked.error';
import { LoginAttempt, LoginLockout } from '../security/login-lockout';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { LoginDto } from './dto/login.dto';
import type { RegisterDto } from './dto/register.dto';
import type { DisableTwoFactorDto } from './mfa/dto/disable-two-factor.dto';
import { notOn, SecondFactor, TwoFactorService } from './mfa/two-factor.service';
import type { RecoveryCodes, TwoFactorSetup } from './mfa/two-factor.view';
import type { Principal } from './principal';
import { SessionRevocations } from './session-revocations';
import { SessionService } from './session.service';
import type { TokenPair } from './token-pair';
import { toUserView, UserView } from './user.view';

@Injectable()
export class AuthService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly twoFactor: TwoFactorService,
    private readonly revocations: SessionRevocations,
    private readonly lockout: LoginLockout,
    private readonly audit: AuditWriter,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'auth'>,
  ) {}

  /**
   * Creates an account, as REGISTRATION allows: `open` — anyone, and the very first account of an installation becomes
   * its admin; `invite` — only with an unspent, unexpired invitation for this address, whose role the account gets;
   * `closed` — nobody (403; accounts come from the operator CLI). An invitation is honoured in `open` mode too.
   */
  async register(dto: RegisterDto, client: ClientInfo): Promise<UserView> {
    const mode = this.config.auth.registration;
    if (mode === 'closed') {
      throw new ForbiddenError('Registration is closed on this installation; ask an administrator for an account');
    }
    if (mode === 'invite' && dto.inviteCode === undefined) {
      throw new ForbiddenError('Registration is by invitation: send the inviteCode you were given');
    }
    const problems = checkPasswordPolicy(dto.password);
    if (problems.length > 0) throw new ValidationError(problems.map((message) => ({ field: 'password', message })));
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const user = await this.db.transaction(async (tx) => {
        const invitation =
          dto.inviteCode === undefined ? undefined : await this.validInvitation(tx, dto.inviteCode, dto.email);
        const role: UserRole =
          invitation?.role === 'admin' || (mode === 'open' && (await tx.users.isEmpty())) ? 'admin' : 'user';
        const created = await tx.users.create({
          id: randomUUID(),
          email: dto.email,
          displayName: dto.displayName,
          passwordHash,
          role,
        });
        if (invitation && !(await tx.invitations.markAccepted(invitation.id, created.id))) throw invalidInvitation();
        await this.audit.record(
          {
            actorId: created.id,
            action: 'user.registered',
            targetType: 'user',
            targetId: created.id,
            ...(invitation ? { metadata: { invitation: invitation.id, role } } : {}),
            ...client,
          },
          tx,
        );
        return created;
      });
      return toUserView(user);
    } catch (error) {
      if (isDuplicateKey(error)) throw new AuthError('email_taken', 'An account with this email already exists');
      throw error;
    }
  }

  /**
   * Same answer and similar timing for an unknown email and a wrong password, lockout included: failures count per
   * email whether or not an account has it, and a locked email is refused before any password is checked.
   *
   * With two-factor authentication on, the right password is not enough: `otp` must be a TOTP code not used before
   * or an unused recovery code, else 401 `mfa_required`. A missing or wrong `otp` counts as a failed attempt (a
   * success is what clears the count), so the lockout also bounds guessing codes for a known password.
   */
  async login(dto: LoginDto, client: ClientInfo): Promise<TokenPair> {
    const user = await this.db.users.findByEmail(dto.email);
    const attempt = await this.beginAttempt(dto.email, user, client, 'auth.login_failed');
    const valid = user
      ? await this.passwords.verify(dto.password, user.passwordHash)
      : await this.passwords.verifyAgainstDummy(dto.password);
    if (!user || !valid || user.disabled) {
      await this.failAttempt(attempt, user, client, 'auth.login_failed', {
        reason: !user ? 'unknown_email' : user.disabled && valid ? 'disabled' : 'wrong_password',
      });
      throw new AuthError('invalid_credentials', 'The email or password is not correct');
    }
    let factor: SecondFactor | null = null;
    if (user.mfaEnabled) {
      factor = dto.otp === undefined ? null : await this.twoFactor.consume(user, dto.otp, client);
      if (!factor) {
        await this.failAttempt(attempt, user, client, 'auth.login_failed', {
          reason: dto.otp === undefined ? 'mfa_missing' : 'wrong_otp',
        });
        throw new AuthError(
          'mfa_required',
          dto.otp === undefined
            ? 'Two-factor authentication is on: send `otp`, a code from the authenticator app or a recovery code'
            : 'The one-time code is not correct, or was already used',
        );
      }
    }
    await this.lockout.succeeded(attempt);
    const opened = await this.sessions.open(user, client);
    await this.audit.record({
      actorId: user.id,
      action: 'auth.login',
      targetType: 'session',
      targetId: opened.sessionId,
      ...(factor ? { metadata: { mfa: factor } } : {}),
      ...client,
    });
    return opened.tokens;
  }

  /** Rotates the refresh token: the presented one stops working, a new pair is returned. */
  refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    return this.sessions.rotate(refreshToken, client);
  }

  async logout(principal: Principal, client: ClientInfo): Promise<void> {
    await this.sessions.revoke(principal.sessionId, 'logout');
    await this.audit.record({
      actorId: principal.userId,
      action: 'auth.logout',
      targetType: 'session',
      targetId: principal.sessionId,
      ...client,
    });
  }

  /**
   * Changes the caller's password and ends every other session of the account (the current one stays). A wrong
   * current password counts as a failed login, so a stolen access token cannot be used to guess the password.
   */
  async changePassword(principal: Principal, dto: ChangePasswordDto, client: ClientInfo): Promise<void> {
    const user = await this.activeUser(principal);
    const problems = checkPasswordPolicy(dto.newPassword);
    if (problems.length > 0) throw new ValidationError(problems.map((message) => ({ field: 'newPassword', message })));

    const attempt = await this.beginAttempt(user.email, user, client, 'auth.password_change_failed');
    if (!(await this.passwords.verify(dto.currentPassword, user.passwordHash))) {
      await this.failAttempt(attempt, user, client, 'auth.password_change_failed', { reason: 'wrong_password' });
      throw new AuthError('invalid_credentials', 'The current password is not correct', {
        errors: [{ field: 'currentPassword', message: 'is not correct' }],
      });
    }
    await this.lockout.succeeded(attempt);

    const passwordHash = await this.passwords.hash(dto.newPassword);
    const revoked = await this.db.transaction(async (tx) => {
      if (!(await tx.users.changePasswordHash(user.id, user.passwordHash, passwordHash))) {
        throw new ConflictError('The password was changed by another request meanwhile; try again');
      }
      // Every other session ends; the one that changed the password goes on.
      const ids = await tx.sessions.revokeAllOfUser(user.id, 'password_change', principal.sessionId);
      await this.audit.record(
        {
          actorId: user.id,
          action: 'auth.password_changed',
          targetType: 'user',
          targetId: user.id,
          metadata: { revokedSessions: ids.length },
          ...client,
        },
        tx,
      );
      return ids;
    });
    await this.revocations.revokeMany(revoked);
  }

  /** Starts enrolling an authenticator: a new secret, stored sealed and pending until {@link enableTwoFactor}. */
  async setupTwoFactor(principal: Principal): Promise<TwoFactorSetup> {
    return this.twoFactor.setup(await this.activeUser(principal));
  }

  /** Turns two-factor authentication on with a code of the pending secret; answers the recovery codes, once. */
  async enableTwoFactor(principal: Principal, otp: string, client: ClientInfo): Promise<RecoveryCodes> {
    return this.twoFactor.enable(await this.activeUser(principal), otp, client);
  }

  /**
   * Turns two-factor authentication off. Needs the password and a second factor (a TOTP code or a recovery code);
   * like a password change, a wrong one is 401 `invalid_credentials` naming the field and counts as a failed login.
   */
  async disableTwoFactor(principal: Principal, dto: DisableTwoFactorDto, client: ClientInfo): Promise<void> {
    const user = await this.activeUser(principal);
    if (!user.mfaEnabled) throw notOn();
    const attempt = await this.beginAttempt(user.email, user, client, 'auth.2fa_disable_failed');
    if (!(await this.passwords.verify(dto.password, user.passwordHash))) {
      await this.failAttempt(attempt, user, client, 'auth.2fa_disable_failed', { reason: 'wrong_password' });
      throw new AuthError('invalid_credentials', 'The password is not correct', {
        errors: [{ field: 'password', message: 'is not correct' }],
      });
    }
    const factor = await this.twoFactor.consume(user, dto.otp, client);
    if (!factor) {
      await this.failAttempt(attempt, user, client, 'auth.2fa_disable_failed', { reason: 'wrong_otp' });
      throw new AuthError('invalid_credentials', 'The one-time code is not correct, or was already used', {
        errors: [{ field: 'otp', message: 'is not correct' }],
      });
    }
    await this.lockout.succeeded(attempt);
    await this.twoFactor.disable(user, factor, client);
  }

  async me(principal: Principal): Promise<UserView> {
    const user = await this.db.users.findById(principal.userId);
    if (!user) throw new NotFoundError('The user');
    return toUserView(user);
  }

  private async activeUser(principal: Principal): Promise<UserEntity> {
    const user = await this.db.users.findById(principal.userId);
    if (!user || user.disabled) throw new UnauthorizedError('This session has ended; log in again');
    return user;
  }

  /** The invitation `code` names, locked until the transaction ends, when it may still create `email`'s account. */
  private async validInvitation(tx: Repositories, code: string, email: string): Promise<InvitationEntity> {
    const invitation = await tx.invitations.findByCodeHash(hashOpaqueToken(code), { lock: true });
    if (!invitation || invitation.acceptedAt || invitation.expiresAt <= new Date() || invitation.email !== email) {
      throw invalidInvitation();
    }
    return invitation;
  }

  /** Counts a password attempt against `email`'s lockout; a locked account is refused (and audited) here. */
  private async beginAttempt(
    email: string,
    user: UserEntity | null,
    client: ClientInfo,
    failedAction: string,
  ): Promise<LoginAttempt> {
    try {
      return await this.lockout.begin(email);
    } catch (error) {
      if (error instanceof AccountLockedError) {
        await this.audit.record({
          actorId: user?.id ?? null,
          action: failedAction,
          targetType: 'user',
          targetId: user?.id,
          metadata: { reason: 'locked' },
          ...client,
        });
      }
      throw error;
    }
  }

  /** Audits a failed password attempt, and the lock it caused if it was the last one allowed. */
  private async failAttempt(
    attempt: LoginAttempt,
    user: UserEntity | null,
    client: ClientInfo,
    action: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      actorId: user?.id ?? null,
      action,
      targetType: 'user',
      targetId: user?.id,
      metadata,
      ...client,
    });
    if (attempt.lock) {
      await this.audit.record({
        actorId: null,
        action: 'auth.locked',
        // An unknown email is identified by the hash the lockout uses, never the address itself.
        ...(user
          ? { targetType: 'user', targetId: user.id }
          : { targetType: 'login_email', targetId: attempt.subject }),
        metadata: { level: attempt.lock.level, lockSeconds: attempt.lock.seconds },
        ...client,
      });
    }
  }
}

/** One answer for an unknown, spent, expired or someone else's code: which it was is not told. */
function invalidInvitation(): ForbiddenError {
  return new ForbiddenError('The invitation is not valid: unknown, already used, expired or for another address');
}
