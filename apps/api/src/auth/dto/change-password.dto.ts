import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 1024 })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  currentPassword!: string;

  @ApiProperty({ minLength: 12, maxLength: 1024, description: 'At least 12 characters and not a common password' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  newPassword!: string;
}
