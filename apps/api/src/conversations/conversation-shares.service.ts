import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import { CommonError, ForbiddenError, NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ConversationAccess } from '../access/conversation-access';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { DATABASE } from '../infra/di-symbols';
import type { ShareConversationDto } from './dto/share-conversation.dto';
import { ShareView, toShareView } from './share.view';

/** Who else may read or write a conversation. Only its owner manages this; a sharee may remove themselves. */
@Injectable()
export class ConversationSharesService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly audit: AuditWriter,
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
      await this.access.require(principal, conversationId, 'owner', { tx, lock: true });
      const sharee = await tx.conversations.findSharee(dto.email);
      if (!sharee) throw new CommonError('not_found', 'There is no user with that email');
      if (sharee.id === principal.userId) {
        throw new ValidationError([{ field: 'email', message: 'is your own: the owner always has access' }]);
      }
      const previous = await tx.conversations.findShare(conversationId, sharee.id);
      const share = await tx.conversations.saveShare({
        conversationId,
        userId: sharee.id,
        permission: dto.permission,
        createdBy: principal.userId,
      });
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.shared',
          targetType: 'conversation',
          targetId: conversationId,
          metadata: { userId: sharee.id, permission: dto.permission, previous: previous?.permission ?? null },
          ...client,
        },
        tx,
      );
      return toShareView(share, sharee);
    });
  }

  async list(principal: Principal, conversationId: string): Promise<ShareView[]> {
    await this.access.require(principal, conversationId, 'owner');
    const shares = await this.db.conversations.listShares(conversationId);
    return shares.map(({ share, sharee }) => toShareView(share, sharee));
  }

  /** The owner removes anyone's share; a sharee may remove their own. Takes effect on the next request. */
  async revoke(principal: Principal, conversationId: string, userId: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { permission } = await this.access.require(principal, conversationId, 'read', { tx, lock: true });
      if (permission !== 'owner' && userId !== principal.userId) {
        throw new ForbiddenError("Only the conversation's owner may remove someone else's share");
      }
      const share = await tx.conversations.findShare(conversationId, userId);
      if (!share) throw new NotFoundError('The share');
      await tx.conversations.deleteShare(conversationId, userId);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'conversation.unshared',
          targetType: 'conversation',
          targetId: conversationId,
          metadata: { userId, permission: share.permission },
          ...client,
        },
        tx,
      );
    });
  }
}
