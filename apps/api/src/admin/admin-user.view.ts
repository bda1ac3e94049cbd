import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '#libs/db/entities/user.entity';
import type { LockStatus } from '../security/login-lockout';

/** A user as administrators see it: the account, its state and its login lockout. */
export class AdminUserView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty()
  displayName!: string;

  @ApiProperty({ enum: ['user', 'admin'] })
  role!: string;

  @ApiProperty()
  disabled!: boolean;

  @ApiProperty()
  mfaEnabled!: boolean;

  @ApiProperty({ description: 'Locked out after failed logins right now' })
  locked!: boolean;

  @ApiProperty({ description: 'Seconds the lock still lasts (0 when not locked)' })
  lockedForSeconds!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class AdminUserPage {
  @ApiProperty({ type: AdminUserView, isArray: true })
  items!: AdminUserView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export function toAdminUserView(user: UserEntity, lock: LockStatus): AdminUserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    disabled: user.disabled,
    mfaEnabled: user.mfaEnabled,
    locked: lock.locked,
    lockedForSeconds: lock.retryAfterSeconds,
    createdAt: user.createdAt.toISOString(),
  };
}
