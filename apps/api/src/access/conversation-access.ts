import { Inject, Injectable } from '@nestjs/common';
import type { Database, Repositories } from '#libs/db/database';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import { ForbiddenError, NotFoundError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { DATABASE } from '../infra/di-symbols';
import { AccessNeed, allows, ConversationPermission, effectivePermission } from './conversation-permission';

export interface ConversationAccessGrant {
  conversation: ConversationEntity;
  permission: ConversationPermission;
}

export interface AccessOptions {
  /** Read through the repositories of this transaction. */
  tx?: Repositories;
  /**
   * Lock the conversation row (FOR UPDATE) until the transaction ends (needs `tx`). Every share change takes the same
   * lock first, so a share read after it is current: a revoke and a send never interleave.
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
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** The conversation and the caller's permission, or undefined when the caller may not see it. */
  async find(
    principal: Principal,
    conversationId: string,
    options: AccessOptions = {},
  ): Promise<ConversationAccessGrant | undefined> {
    const { conversations } = this.repositories(options);
    const conversation = await conversations.findById(conversationId, { lock: options.lock });
    if (!conversation) return undefined;
    const share =
      conversation.ownerId === principal.userId
        ? null
        : await conversations.findShare(conversationId, principal.userId);
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
    return this.grantOrThrow(await this.find(principal, conversationId, options), need, 'The conversation');
  }

  /**
   * Something that lives in one conversation (a message, a turn) if the caller holds `need` on that conversation:
   * 404 naming `what` when there is no such thing or the caller may not see its conversation (so its existence does
   * not leak), 403 when the access falls short. Pass what the lookup by id found, null included.
   */
  async requireItem<T extends { conversationId: string }>(
    principal: Principal,
    item: T | null | undefined,
    need: AccessNeed,
    what: string,
    options: AccessOptions = {},
  ): Promise<ConversationAccessGrant & { item: T }> {
    if (!item) throw new NotFoundError(what);
    return { ...this.grantOrThrow(await this.find(principal, item.conversationId, options), need, what), item };
  }

  /** The message if the caller holds `need` on its conversation: else 404 (no message, no access) or 403. */
  async requireMessage(
    principal: Principal,
    messageId: string,
    need: AccessNeed,
    options: AccessOptions = {},
  ): Promise<ConversationAccessGrant & { message: MessageEntity }> {
    const found = await this.repositories(options).messages.findById(messageId);
    const { item: message, ...grant } = await this.requireItem(principal, found, need, 'The message', options);
    return { ...grant, message };
  }

  private repositories(options: AccessOptions): Repositories {
    return options.tx ?? this.db;
  }

  private grantOrThrow(
    grant: ConversationAccessGrant | undefined,
    need: AccessNeed,
    what: string,
  ): ConversationAccessGrant {
    if (!grant) throw new NotFoundError(what);
    if (!allows(grant.permission, need)) {
      throw new ForbiddenError(
        need === 'owner'
          ? "Only the conversation's owner may do this"
          : 'This conversation is shared with you read-only',
      );
    }
    return grant;
  }
}
