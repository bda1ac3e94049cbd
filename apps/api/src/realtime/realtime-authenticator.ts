import { Injectable } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { Request, Response } from 'express';
import { UnauthorizedError } from '#libs/errors/app-error';
import { AuthGuard } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { RateLimitGuard } from '../security/rate-limit.guard';
import { RealtimeRoutes } from './realtime-routes';

/**
 * Checks a WebSocket's credential and its messages with the very guards that protect the HTTP routes: a token is
 * verified, checked for revocation and for its scopes exactly as an `Authorization: Bearer` header is, and `send`
 * spends the same per-user chat allowance as `POST /conversations/:id/messages`.
 */
@Injectable()
export class RealtimeAuthenticator {
  constructor(
    private readonly auth: AuthGuard,
    private readonly rateLimit: RateLimitGuard,
  ) {}

  /** The principal of `token` if it may use the WebSocket (`chat:read`); throws the guard's 401/403 error. */
  async authenticate(token: string, ip: string | undefined): Promise<Principal> {
    const req = requestOf(token, ip);
    await this.auth.canActivate(contextOf(req, 'connect'));
    if (!req.principal) throw new UnauthorizedError();
    return req.principal;
  }

  /** The same, and what `send` needs on top: `chat:write` and the chat rate limit (throws 403 / 429). */
  async authorizeSend(token: string, ip: string | undefined): Promise<Principal> {
    const req = requestOf(token, ip);
    const context = contextOf(req, 'send');
    await this.auth.canActivate(context);
    await this.rateLimit.canActivate(context);
    if (!req.principal) throw new UnauthorizedError();
    return req.principal;
  }
}

type GuardedRequest = Pick<Request, 'header' | 'ip' | 'principal'>;

function requestOf(token: string, ip: string | undefined): GuardedRequest {
  const authorization = `Bearer ${token}`;
  const header = ((name: string) =>
    name.toLowerCase() === 'authorization' ? authorization : undefined) as Request['header'];
  return { header, ip };
}

function contextOf(req: GuardedRequest, route: 'connect' | 'send'): ExecutionContextHost {
  // The rate-limit headers a route would answer with have nowhere to go on a WebSocket: they are dropped.
  const res: Pick<Response, 'setHeader'> = { setHeader: () => res as Response };
  return new ExecutionContextHost([req, res], RealtimeRoutes, RealtimeRoutes.prototype[route]);
}
