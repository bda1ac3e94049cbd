import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ConversationShareEntity } from '#libs/db/entities/conversation-share.entity';
import { UserEntity } from '#libs/db/entities/user.entity';
import { CommonError, ForbiddenError, NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ConversationAccess } from '../access/conversation-access';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { DATA_SOURCE } from '../infra/di-symbols';
import type { ShareConversationDto } from './dto/share-conversation.dto';
import { ShareView, toShareView } from './share.view';

/** Who else may read or write a conversation. Only its owner manages this; a sharee may remove themselves. */
@Injectable()
export class ConversationSharesService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly access: ConversationAccess,
  ) {}

  /** Shares the conversation with the account of `dto.email`; sharing again changes the permission. */
  async share(
    principal: Principal,
    conversationId: string,
    dto: ShareConversationDto,
    client: ClientInfo,
  ): Promise<ShareView> {
    return this.db.transaction(async (tx) => {
      await this.access.require(principal, conversationId, 'owner', { manager: tx, lock: true });
      const user = await tx.getRepository(UserEntity).findOneBy({ email: dto.email });
      if (!user) throw new CommonError('not_found', 'There is no user with that email');
      if (user.id === principal.userId) {
        throw new ValidationError([{ field: 'email', message: 'is your own: the owner always has access' }]);
      }
      const shares = tx.getRepository(ConversationShareEntity);
      const previous = await shares.findOneBy({ conversationId, userId: user.id });
      if (previous) {
        await shares.update({ conversationId, userId: user.id }, { permission: dto.permission });
      } else {
        await shares.insert({
          conversationId,
          userId: user.id,
          permission: dto.permission,
          createdBy: principal.userId,
        });
      }
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.shared',
          targetType: 'conversation',
          targetId: conversationId,
          metadata: { userId: user.id, permission: dto.permission, previous: previous?.permission ?? null },
        },
        client,
        tx,
      );
      return toShareView(await shares.findOneByOrFail({ conversationId, userId: user.id }), user);
    });
  }

  async list(principal: Principal, conversationId: string): Promise<ShareView[]> {
    await this.access.require(principal, conversationId, 'owner');
    const rows = await this.db
      .getRepository(ConversationShareEntity)
      .createQueryBuilder('s')
      .innerJoinAndMapOne('s.user', UserEntity, 'u', 'u.id = s.user_id')
      .where('s.conversation_id = :conversationId', { conversationId })
      .orderBy('s.created_at', 'ASC')
      .addOrderBy('s.user_id', 'ASC')
      .getMany();
    return rows.map((row) => toShareView(row, (row as ConversationShareEntity & { user: UserEntity }).user));
  }

  /** The owner removes anyone's share; a sharee may remove their own. Takes effect on the next request. */
  async revoke(principal: Principal, conversationId: string, userId: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { permission } = await this.access.require(principal, conversationId, 'read', { manager: tx, lock: true });
      if (permission !== 'owner' && userId !== principal.userId) {
        throw new ForbiddenError("Only the conversation's owner may remove someone else's share");
      }
      const shares = tx.getRepository(ConversationShareEntity);
      const share = await shares.findOneBy({ conversationId, userId });
      if (!share) throw new NotFoundError('The share');
      await shares.delete({ conversationId, userId });
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.unshared',
          targetType: 'conversation',
          targetId: conversationId,
          metadata: { userId, permission: share.permission },
        },
        client,
        tx,
      );
    });
  }
}
