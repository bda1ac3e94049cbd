import { ApiProperty } from '@nestjs/swagger';

/** What `POST /codec/session` answers beside the cookie it sets. */
export class CodecSessionDto {
  @ApiProperty({ description: 'When the cookie (and the access token in it) expires', format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ description: 'Where the Temporal UI is (TEMPORAL_UI_URL)', example: 'http://127.0.0.1:8233' })
  temporalUiUrl!: string;
}
