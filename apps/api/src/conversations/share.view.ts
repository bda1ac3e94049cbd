import { ApiProperty } from '@nestjs/swagger';
import type { ConversationShareEntity, SharePermission } from '#libs/db/entities/conversation-share.entity';
import { SHARE_PERMISSIONS } from '#libs/db/entities/conversation-share.entity';
import type { Sharee } from '#libs/db/repositories/conversation.repository';

export class ShareView {
  @ApiProperty({ format: 'uuid' })
  userId!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty()
  displayName!: string;

  @ApiProperty({ enum: SHARE_PERMISSIONS })
  permission!: SharePermission;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class ShareList {
  @ApiProperty({ type: [ShareView] })
  items!: ShareView[];
}

export function toShareView(share: ConversationShareEntity, user: Sharee): ShareView {
  return {
    userId: share.userId,
    email: user.email,
    displayName: user.displayName,
    permission: share.permission,
    createdAt: share.createdAt.toISOString(),
  };
}
