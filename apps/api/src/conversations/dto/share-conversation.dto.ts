import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import { SHARE_PERMISSIONS, SharePermission } from '#libs/db/entities/conversation-share.entity';

export class ShareConversationDto {
  @ApiProperty({ example: 'grace@example.com', maxLength: 254, description: 'The account to share with' })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase().normalize('NFC') : value,
  )
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: SHARE_PERMISSIONS, description: '`read`: see it; `write`: also send messages' })
  @IsIn(SHARE_PERMISSIONS, { message: `must be one of ${SHARE_PERMISSIONS.join(', ')}` })
  permission!: SharePermission;
}
