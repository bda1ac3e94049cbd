import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

/** What the authorization server sent the browser back with, as the web client's callback page read it. */
export class CompleteMcpOAuthDto {
  @ApiProperty({ description: 'The `state` query parameter of the callback' })
  @IsString()
  @Length(16, 200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'must be the state the sign-in started with' })
  state!: string;

  @ApiProperty({ description: 'The `code` query parameter of the callback' })
  @IsString()
  @Length(1, 2000)
  code!: string;
}
