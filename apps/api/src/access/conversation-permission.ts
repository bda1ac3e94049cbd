import type { SharePermission } from '#libs/db/entities/conversation-share.entity';

/** What the caller may do with a conversation: own it, or hold a share. */
export type ConversationPermission = 'owner' | SharePermission;
/** What a service path needs. */
export type AccessNeed = 'read' | 'write' | 'owner';

const RANK: Record<ConversationPermission, number> = { read: 1, write: 2, owner: 3 };

/**
 * The caller's permission on a conversation: `owner` for its owner, else the share's permission, else none. The
 * caller's role plays no part: an admin reads another user's conversation only when it is shared with them.
 */
export function effectivePermission(
  conversation: { ownerId: string },
  callerId: string,
  share: { permission: SharePermission } | null | undefined,
): ConversationPermission | undefined {
  if (conversation.ownerId === callerId) return 'owner';
  return share?.permission;
}

/** Whether `held` covers `need` (owner ⊇ write ⊇ read). */
export function allows(held: ConversationPermission, need: AccessNeed): boolean {
  return RANK[held] >= RANK[need];
}
