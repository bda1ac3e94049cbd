import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { UserEntity } from '../../../../libs/db/entities/user.entity';
import { NotFoundError } from '../../../../libs/errors/app-error';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { DATA_SOURCE } from '../infra/tokens';
import { LoginLockout } from './login-lockout';

/** What administrators may do to other accounts' security state. */
@Injectable()
export class AdminUsersService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly lockout: LoginLockout,
    private readonly audit: AuditService,
  ) {}

  /** Lifts a login lockout and forgets the failed attempts; audited as `auth.unlocked` either way. */
  async unlock(userId: string, admin: Principal, client: ClientInfo): Promise<void> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user) throw new NotFoundError('The user');
    const wasLocked = await this.lockout.unlock(user.email);
    await this.audit.record(
      {
        actorId: admin.userId,
        action: 'auth.unlocked',
        targetType: 'user',
        targetId: user.id,
        metadata: { wasLocked },
      },
      client,
    );
  }
}
