import { ApiProperty } from '@nestjs/swagger';

/** What `POST /auth/2fa/setup` answers: the new, not yet enabled, secret. */
export class TwoFactorSetup {
  @ApiProperty({ description: 'TOTP secret, Base32 (for typing into an authenticator app)', example: 'JBSWY3DP…' })
  secret!: string;

  @ApiProperty({
    description: 'The same secret as an otpauth:// URI (show it as a QR code)',
    example: 'otpauth://totp/GigaChat:ada%40example.com?secret=JBSWY3DP…&issuer=GigaChat',
  })
  otpauthUrl!: string;
}

/** What `POST /auth/2fa/enable` answers: shown once, never again. */
export class RecoveryCodes {
  @ApiProperty({
    type: [String],
    description: 'Ten single-use codes, each accepted once in place of `otp`',
    example: ['7k2m-q9xd-4hpt'],
  })
  recoveryCodes!: string[];
}
