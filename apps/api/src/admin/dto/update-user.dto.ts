import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import type { UserRole } from '#libs/db/entities/user.entity';

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ['user', 'admin'], description: 'Demoting ends the account’s sessions' })
  @IsOptional()
  @IsIn(['user', 'admin'])
  role?: UserRole;

  @ApiPropertyOptional({ description: 'Disabling ends the account’s sessions; its API tokens stop working' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
