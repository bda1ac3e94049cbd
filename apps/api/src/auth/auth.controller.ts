import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { Public } from '../common/public.decorator';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes, SessionOnly } from '../security/require-scopes.decorator';
import { AuthService } from './auth.service';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshDto } from './dto/refresh.dto';
import { RegisterDto } from './dto/register.dto';
import { DisableTwoFactorDto } from './mfa/dto/disable-two-factor.dto';
import { EnableTwoFactorDto } from './mfa/dto/enable-two-factor.dto';
import { RecoveryCodes, TwoFactorSetup } from './mfa/two-factor.view';
import type { Principal } from './principal';
import { TokenPair } from './token-pair';
import { RegisteredUser, UserView } from './user.view';

@ApiTags('auth')
@RateLimit('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @ApiOperation({
    summary: 'Create an account (with REGISTRATION=open, the first account becomes admin)',
    description:
      'REGISTRATION=open: anyone; invite: only with `inviteCode`, an unused, unexpired invitation for this email ' +
      '(the account gets its role); closed: nobody. Refused registrations are 403 `forbidden`.',
  })
  @ApiCreatedResponse({ type: RegisteredUser })
  @ApiProblems(400, 403, 409, 413, 415)
  async register(@Body() dto: RegisterDto, @Req() req: Request): Promise<RegisteredUser> {
    return { user: await this.auth.register(dto, clientInfo(req)) };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in: a PASETO v4.local access token and a rotating refresh token',
    description:
      '5 failed attempts for an email within 15 minutes lock it for 15 minutes, doubling on each repeat lock ' +
      '(at most 24 h): 423 `account_locked` with `Retry-After`, even for the right password. ' +
      'With two-factor authentication on, `otp` (a TOTP code not used before, or an unused recovery code) is ' +
      'required: without it or with a wrong one, 401 `mfa_required`, and the attempt counts as a failure.',
  })
  @ApiOkResponse({ type: TokenPair })
  @ApiProblems(400, 401, 423)
  login(@Body() dto: LoginDto, @Req() req: Request): Promise<TokenPair> {
    return this.auth.login(dto, clientInfo(req));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair (the old refresh token stops working)',
    description: 'Presenting an already-spent refresh token revokes the whole session, access tokens included.',
  })
  @ApiOkResponse({ type: TokenPair })
  @ApiProblems(400, 401)
  refresh(@Body() dto: RefreshDto, @Req() req: Request): Promise<TokenPair> {
    return this.auth.refresh(dto.refreshToken, clientInfo(req));
  }

  @SessionOnly()
  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the current session; its access token stops working at once' })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiProblems(401)
  async logout(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<void> {
    await this.auth.logout(principal, clientInfo(req));
  }

  @SessionOnly()
  @Post('password')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Change the password; every other session of the account ends at once',
    description:
      'A wrong `currentPassword` is 401 `invalid_credentials` (naming the field) and counts as a failed login towards the lockout.',
  })
  @ApiNoContentResponse({ description: 'Changed; every other session has ended' })
  @ApiProblems(400, 401, 409, 423)
  async changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangePasswordDto,
    @Req() req: Request,
  ): Promise<void> {
    await this.auth.changePassword(principal, dto, clientInfo(req));
  }

  @SessionOnly()
  @Post('2fa/setup')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Start two-factor setup: a new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s), not yet enabled',
    description:
      'Stores the secret encrypted and pending; calling again replaces a pending secret. ' +
      'Enable it with a code of the authenticator app. 409 `conflict` when two-factor authentication is already on.',
  })
  @ApiOkResponse({ type: TwoFactorSetup })
  @ApiProblems(401, 409)
  setupTwoFactor(@CurrentPrincipal() principal: Principal): Promise<TwoFactorSetup> {
    return this.auth.setupTwoFactor(principal);
  }

  @SessionOnly()
  @Post('2fa/enable')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Turn two-factor authentication on with a current code of the pending secret',
    description:
      'Answers 10 single-use recovery codes, shown only this once. A wrong code is 400 `validation_failed` ' +
      '(field `otp`); 409 `conflict` when it is already on or setup was not called.',
  })
  @ApiOkResponse({ type: RecoveryCodes })
  @ApiProblems(400, 401, 409)
  enableTwoFactor(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: EnableTwoFactorDto,
    @Req() req: Request,
  ): Promise<RecoveryCodes> {
    return this.auth.enableTwoFactor(principal, dto.otp, clientInfo(req));
  }

  @SessionOnly()
  @Post('2fa/disable')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Turn two-factor authentication off (the secret and recovery codes are deleted)',
    description:
      'Needs the password and `otp` (a TOTP code or a recovery code). A wrong one is 401 `invalid_credentials` ' +
      'naming the field, and counts as a failed login towards the lockout. 409 `conflict` when it is not on.',
  })
  @ApiNoContentResponse({ description: 'Two-factor authentication is off' })
  @ApiProblems(400, 401, 409, 423)
  async disableTwoFactor(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: DisableTwoFactorDto,
    @Req() req: Request,
  ): Promise<void> {
    await this.auth.disableTwoFactor(principal, dto, clientInfo(req));
  }

  @RequireScopes()
  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserView })
  @ApiProblems(401)
  me(@CurrentPrincipal() principal: Principal): Promise<UserView> {
    return this.auth.me(principal);
  }
}
