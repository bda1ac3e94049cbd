import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AccessTokenCodec, AccessTokenError } from '#libs/auth/access-token';
import { ForbiddenError, UnauthorizedError } from '#libs/errors/app-error';
import type { UserRole } from '#libs/db/entities/user.entity';
import { IS_PUBLIC } from '../common/public.decorator';
import { ACCEPTS_CODEC_COOKIE, codecCookieOf } from '../codec/codec-cookie';
import { REQUIRED_SCOPES, SESSION_ONLY } from '../security/require-scopes.decorator';
import { refusal, Scope, scopesForRole } from '../security/scopes';
import { API_TOKEN_PREFIX, ApiTokenAuthenticator } from '../api-tokens/api-token-authenticator';
import { addToLogContext } from '#libs/logging/log-context';
import type { Principal } from './principal';
import { SessionRevocations } from './session-revocations';

/**
 * Global guard: every route needs a valid, unrevoked credential unless it is marked @Public() — a PASETO access
 * token of a login session, or a scoped API token (`gct_…`). Then the route's `@RequireScopes(...)` /
 * `@SessionOnly()` decide whether this caller may use it (403 `forbidden` naming what is missing); a route with
 * neither is open to sessions only.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenCodec,
    private readonly revocations: SessionRevocations,
    private readonly apiTokens: ApiTokenAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets);
    if (isPublic) return true;
    if (context.getType() !== 'http') return false;

    const req = context.switchToHttp().getRequest<Request>();
    const header = req.header('authorization');
    // The codec routes also take the codec cookie (the Temporal UI can send cookies, not our header): a session's
    // access token, checked exactly like one sent in the header.
    const cookie =
      header === undefined && this.reflector.getAllAndOverride<boolean>(ACCEPTS_CODEC_COOKIE, targets)
        ? codecCookieOf(req)
        : undefined;
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/i.exec(
      cookie === undefined ? (header ?? '') : `Bearer ${cookie}`,
    );
    if (!match?.[1]) throw new UnauthorizedError('Send an access token as "Authorization: Bearer <token>"');
    const token = match[1];
    if (cookie !== undefined && token.startsWith(API_TOKEN_PREFIX)) {
      throw new UnauthorizedError('The codec cookie holds a session access token only');
    }
    const principal = token.startsWith(API_TOKEN_PREFIX)
      ? await this.apiTokens.authenticate(token)
      : await this.session(token);
    req.principal = principal;
    addToLogContext({ userId: principal.userId });

    const refused = refusal(principal, {
      scopes: this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets),
      sessionOnly: this.reflector.getAllAndOverride<boolean | undefined>(SESSION_ONLY, targets),
    });
    if (refused) throw new ForbiddenError(refused);
    return true;
  }

  private async session(token: string): Promise<Principal> {
    try {
      const claims = await this.tokens.verify(token);
      if (await this.revocations.isRevoked(claims.sid))
        throw new UnauthorizedError('This session has ended; log in again');
      const role = claims.role as UserRole;
      return { userId: claims.sub, sessionId: claims.sid, role, scopes: scopesForRole(role), kind: 'session' };
    } catch (error) {
      if (error instanceof AccessTokenError) {
        throw error.code === 'token_expired'
          ? new UnauthorizedError('The access token has expired; refresh it', 'token_expired')
          : new UnauthorizedError('The access token is not valid');
      }
      throw error;
    }
  }
}
