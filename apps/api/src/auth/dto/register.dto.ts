import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MaxCodePoints } from '../../common/max-code-points.validator';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase().normalize('NFC') : value,
  )
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 12, maxLength: 1024, description: 'At least 12 characters and not a common password' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ example: 'Ada Lovelace', maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1, { message: 'must not be empty' })
  @MaxCodePoints(100)
  displayName!: string;

  @ApiPropertyOptional({
    example: 'gci_3q2-x7…',
    maxLength: 100,
    description:
      'The invitation code an operator gave this address (`gigachat invite`); required when REGISTRATION=invite',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  inviteCode?: string;
}
