import { ApiProperty } from '@nestjs/swagger';

/** What login and refresh answer with. */
export class TokenPair {
  @ApiProperty({ description: 'PASETO v4.local access token', example: 'v4.local.…' })
  accessToken!: string;

  @ApiProperty({ description: 'Opaque, single-use: each refresh spends it and returns the next', example: 'gcr_…' })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expiresIn!: number;
}
