import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AccessTokenCodec, AccessTokenError } from '../../../../libs/auth/access-token';
import { UnauthorizedError } from '../../../../libs/errors/app-error';
import type { UserRole } from '../../../../libs/db/entities/user.entity';
import { IS_PUBLIC } from '../common/public.decorator';
import { SessionRevocations } from './session-revocations';

/** Global guard: every route needs a valid, unrevoked access token unless it is marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenCodec,
    private readonly revocations: SessionRevocations,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    if (context.getType() !== 'http') return false;

    const req = context.switchToHttp().getRequest<Request>();
    const header = req.header('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError('Send an access token as "Authorization: Bearer <token>"');
    try {
      const claims = await this.tokens.verify(match[1]);
      if (await this.revocations.isRevoked(claims.sid))
        throw new UnauthorizedError('This session has ended; log in again');
      req.principal = { userId: claims.sub, sessionId: claims.sid, role: claims.role as UserRole };
      return true;
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
