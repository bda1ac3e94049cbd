import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class DisableTwoFactorDto {
  @ApiProperty({ maxLength: 1024 })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ description: 'A code from the authenticator app, or an unused recovery code', example: '123456' })
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,32}$/, { message: 'must be a 6-digit code or a recovery code' })
  otp!: string;
}
