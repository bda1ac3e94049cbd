import type { UserEntity } from '../../../../libs/db/entities/user.entity';

export interface UserView {
  id: string;
  email: string;
  displayName: string;
  role: string;
  mfaEnabled: boolean;
  createdAt: string;
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    mfaEnabled: user.mfaEnabled,
    createdAt: user.createdAt.toISOString(),
  };
}
