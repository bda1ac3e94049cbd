import type { UserRole } from '#libs/db/entities/user.entity';
import type { Scope } from '../security/scopes';

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  /**
   * The login session. For an API token this is the token's id: session routes (logout, password, 2FA, token
   * management) refuse API tokens, so it never reaches them.
   */
  sessionId: string;
  role: UserRole;
  /** What the caller may do: every scope of its role for a session; an API token's own (still granted by the role). */
  scopes: Scope[];
  kind: 'session' | 'api_token';
}
