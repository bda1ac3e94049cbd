import type { UserRole } from '../../../../libs/db/entities/user.entity';

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  sessionId: string;
  role: UserRole;
}
