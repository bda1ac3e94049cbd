import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase().normalize('NFC') : value,
  )
  @IsString()
  @MinLength(3)
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ description: 'TOTP code or recovery code, when two-factor authentication is on' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9-]{6,32}$/, { message: 'must be a 6-digit code or a recovery code' })
  otp?: string;
}
