import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { ConversationShareEntity } from '#libs/db/entities/conversation-share.entity';
import { ConversationEntity } from '#libs/db/entities/conversation.entity';
import { ForbiddenError, NotFoundError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { DATA_SOURCE } from '../infra/di-symbols';
import { AccessNeed, allows, ConversationPermission, effectivePermission } from './conversation-permission';

export interface ConversationAccessGrant {
  conversation: ConversationEntity;
  permission: ConversationPermission;
}

export interface AccessOptions {
  /** Run inside this transaction. */
  manager?: EntityManager;
  /**
   * Lock the conversation row (FOR UPDATE) until the transaction ends. Every share change takes the same lock first,
   * so a share read after it is current: a revoke and a send never interleave.
   */
  lock?: boolean;
}

/**
 * The one policy for conversations and everything in them (messages, turns, shares): the owner may do anything, a
 * `write` sharee may read and send messages, a `read` sharee may read. No access at all is 404 (existence does not
 * leak); access that falls short of what is needed is 403. Roles give nothing here.
 */
@Injectable()
export class ConversationAccess {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /** The conversation and the caller's permission, or undefined when the caller may not see it. */
  async find(
    principal: Principal,
    conversationId: string,
    options: AccessOptions = {},
  ): Promise<ConversationAccessGrant | undefined> {
    const manager = options.manager ?? this.db.manager;
    const conversation = await manager
      .getRepository(ConversationEntity)
      .findOne({ where: { id: conversationId }, ...(options.lock ? { lock: { mode: 'pessimistic_write' } } : {}) });
    if (!conversation) return undefined;
    const share =
      conversation.ownerId === principal.userId
        ? null
        : await manager.getRepository(ConversationShareEntity).findOneBy({ conversationId, userId: principal.userId });
    const permission = effectivePermission(conversation, principal.userId, share);
    return permission ? { conversation, permission } : undefined;
  }

  /** The conversation if the caller holds `need` on it: else 404 (no access at all) or 403 (not enough). */
  async require(
    principal: Principal,
    conversationId: string,
    need: AccessNeed,
    options: AccessOptions = {},
  ): Promise<ConversationAccessGrant> {
    const grant = await this.find(principal, conversationId, options);
    if (!grant) throw new NotFoundError('The conversation');
    if (!allows(grant.permission, need)) {
      throw new ForbiddenError(need === 'owner'
          ? "Only the conversation's owner may do this"
          : 'This conversation is shared with you read-only',
      );
    }
    return grant;
  }
}
