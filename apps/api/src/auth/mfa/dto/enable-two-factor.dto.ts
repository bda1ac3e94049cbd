import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class EnableTwoFactorDto {
  @ApiProperty({ description: 'The current 6-digit code of the authenticator app', example: '123456' })
  @IsString()
  @Matches(/^[0-9]{6}$/, { message: 'must be the 6-digit code of the authenticator app' })
  otp!: string;
}
