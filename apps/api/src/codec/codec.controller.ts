import { Body, Controller, Delete, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AccessTokenCodec } from '#libs/auth/access-token';
import type { AppConfig } from '#libs/config/app-config';
import { ApiProblems } from '../common/problem.responses';
import { APP_CONFIG } from '../infra/di-symbols';
import { RequireScopes, SessionOnly } from '../security/require-scopes.decorator';
import { Roles } from '../security/roles.decorator';
import { AcceptsCodecCookie, CODEC_COOKIE, codecCookie } from './codec-cookie';
import { CodecService } from './codec.service';
import { CodecPayloadsDto } from './dto/codec-payloads.dto';
import { CodecSessionDto } from './dto/codec-session.dto';

/**
 * The codec server of the Temporal UI and CLI (`--codec-endpoint …/api/v1/codec`): an admin sees turns' payloads in
 * clear; anyone else gets 401/403 and the UI keeps showing ciphertext. The CLI sends the admin's bearer token; the
 * UI, which can only send cookies, the codec cookie from `POST codec/session`. CORS for the UI's origin is set in
 * create-app.
 */
@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401)
@Roles('admin')
@RequireScopes('admin')
@Controller('codec')
export class CodecController {
  constructor(
    private readonly codec: CodecService,
    private readonly tokens: AccessTokenCodec,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('session')
  @HttpCode(200)
  @SessionOnly()
  @ApiOperation({
    summary:
      'Lets the Temporal UI decode as you: sets the codec cookie (your access token, HttpOnly, codec routes only)',
    description:
      'The Temporal UI sends cookies to the codec when "include cross-origin credentials" is on, never our header. ' +
      'The cookie expires with the access token; call this again after a refresh.',
  })
  @ApiOkResponse({ type: CodecSessionDto })
  async openSession(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<CodecSessionDto> {
    const token = /^Bearer (.+)$/i.exec(req.header('authorization') ?? '')![1]!;
    const { exp } = await this.tokens.verify(token);
    const seconds = (Date.parse(exp) - Date.now()) / 1000;
    res.setHeader('Set-Cookie', codecCookie(token, seconds, req.secure));
    res.setHeader('Cache-Control', 'no-store');
    return { expiresAt: exp, temporalUiUrl: this.config.temporal.uiUrl };
  }

  @Delete('session')
  @HttpCode(204)
  @SessionOnly()
  @ApiOperation({ summary: 'Clears the codec cookie: the Temporal UI shows ciphertext again' })
  @ApiNoContentResponse()
  closeSession(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.setHeader('Set-Cookie', codecCookie('', 0, req.secure));
  }

  @Post('encode')
  @AcceptsCodecCookie()
  @ApiCookieAuth(CODEC_COOKIE)
  @HttpCode(200)
  @ApiOperation({ summary: 'Encrypts payloads as the API and workers do (Temporal codec server shape)' })
  @ApiOkResponse({ type: CodecPayloadsDto })
  @ApiProblems(400)
  encode(@Body() body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    return this.codec.encode(body);
  }

  @Post('decode')
  @AcceptsCodecCookie()
  @ApiCookieAuth(CODEC_COOKIE)
  @HttpCode(200)
  @ApiOperation({ summary: 'Decrypts payloads sealed with any configured key; clear payloads pass through' })
  @ApiOkResponse({ type: CodecPayloadsDto })
  @ApiProblems(400)
  decode(@Body() body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    return this.codec.decode(body);
  }
}
