import type { AuditWriter } from '#libs/audit/audit-writer';
import { generateRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from '#libs/auth/recovery-codes';
import type { SecretBox } from '#libs/auth/secret-box';
import { generateTotpSecret, totpUri, verifyTotp } from '#libs/auth/totp';
import type { Database } from '#libs/db/database';
import type { UserEntity } from '#libs/db/entities/user.entity';
import { AppError, ConflictError, ValidationError } from '#libs/errors/app-error';
import type { ClientInfo } from '../../common/client-info';
import type { RecoveryCodes, TwoFactorSetup } from './two-factor.view';

export const TOTP_ISSUER = 'GigaChat';

/** How a second factor was given. */
export type SecondFactor = 'totp' | 'recovery_code';

/**
 * TOTP two-factor authentication (RFC 6238): the secret is sealed at rest (AES-256-GCM, bound to the user id), a
 * code is accepted at most once (the last accepted time step is stored and only later steps pass), and recovery
 * codes are stored as SHA-256 and spent by a conditional UPDATE. Each state change is a conditional UPDATE too, so
 * two concurrent requests cannot both act on the same state. (Provided by AuthModule, which builds the SecretBox.)
 */
export class TwoFactorService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly audit: AuditWriter,
  ) {}

  /** A new pending secret, replacing any earlier pending one. 409 when 2FA is already on. */
  async setup(user: UserEntity): Promise<TwoFactorSetup> {
    if (user.mfaEnabled) throw alreadyOn();
    const secret = generateTotpSecret();
    if (!(await this.db.users.setPendingMfaSecret(user.id, this.box.seal(secret, sealContext(user.id))))) {
      throw alreadyOn();
    }
    return { secret, otpauthUrl: totpUri(secret, user.email, TOTP_ISSUER) };
  }

  /** Turns 2FA on once `otp` proves the authenticator has the pending secret; answers the recovery codes. */
  async enable(user: UserEntity, otp: string, client: ClientInfo): Promise<RecoveryCodes> {
    if (user.mfaEnabled) throw alreadyOn();
    const pending = user.mfaSecret;
    if (!pending) throw new ConflictError('There is no pending secret: call POST /auth/2fa/setup first');
    const step = verifyTotp(this.box.open(pending, sealContext(user.id)), otp);
    if (step === null) throw new ValidationError([{ field: 'otp', message: 'is not the current code of this secret' }]);

    const recoveryCodes = generateRecoveryCodes();
    await this.db.transaction(async (tx) => {
      // Only the secret this code was checked against: a setup in between (a new secret) makes this a conflict.
      if (!(await tx.users.enableMfa(user.id, pending, step))) {
        throw new ConflictError('Two-factor setup changed meanwhile; start again with setup');
      }
      await tx.users.replaceRecoveryCodes(
        user.id,
        recoveryCodes.map((code) => hashRecoveryCode(normaliseRecoveryCode(code)!)),
      );
      await this.audit.record(
        { actorId: user.id, action: 'auth.2fa_enabled', targetType: 'user', targetId: user.id, ...client },
        tx,
      );
    });
    return { recoveryCodes };
  }

  /**
   * Checks and spends a second factor of a user with 2FA on: six digits are a TOTP code (accepted once, one step of
   * clock drift either way), anything else a recovery code (accepted once). Null when it is neither.
   */
  async consume(user: UserEntity, otp: string, client: ClientInfo): Promise<SecondFactor | null> {
    if (!user.mfaEnabled || !user.mfaSecret) return null;
    if (/^[0-9]{6}$/.test(otp)) {
      const secret = this.box.open(user.mfaSecret, sealContext(user.id));
      const step = verifyTotp(secret, otp, { afterStep: user.mfaLastStep });
      if (step === null) return null;
      // Of two requests with one code, only the first moves the step forward; the other is a replay.
      return (await this.db.users.advanceMfaStep(user.id, step)) ? 'totp' : null;
    }

    const normal = normaliseRecoveryCode(otp);
    if (!normal) return null;
    if (!(await this.db.users.spendRecoveryCode(user.id, hashRecoveryCode(normal)))) return null;
    const remaining = await this.db.users.countUnusedRecoveryCodes(user.id);
    await this.audit.record({
      actorId: user.id,
      action: 'auth.recovery_code_used',
      targetType: 'user',
      targetId: user.id,
      metadata: { remaining },
      ...client,
    });
    return 'recovery_code';
  }

  /** Turns 2FA off: the secret, the last step and every recovery code are wiped. */
  async disable(user: UserEntity, factor: SecondFactor, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await tx.users.disableMfa(user.id))) throw notOn();
      await tx.users.deleteRecoveryCodes(user.id);
      await this.audit.record(
        {
          actorId: user.id,
          action: 'auth.2fa_disabled',
          targetType: 'user',
          targetId: user.id,
          metadata: { factor },
          ...client,
        },
        tx,
      );
    });
  }
}

/** The additional data a user's sealed secret is bound to: it opens only on that user's row. */
function sealContext(userId: string): string {
  return `totp:${userId}`;
}

function alreadyOn(): AppError {
  return new ConflictError('Two-factor authentication is already on; turn it off first');
}

export function notOn(): AppError {
  return new ConflictError('Two-factor authentication is not on');
}
