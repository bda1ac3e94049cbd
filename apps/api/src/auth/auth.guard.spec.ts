import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { AppError, UnauthorizedError } from '#libs/errors/app-error';
import { Public } from '../common/public.decorator';
import { RequireScopes, SessionOnly } from '../security/require-scopes.decorator';
import type { Scope } from '../security/scopes';
import type { ApiTokenAuthenticator } from '../api-tokens/api-token-authenticator';
import { AuthGuard } from './auth.guard';
import type { Principal } from './principal';
import type { SessionRevocations } from './session-revocations';

class Routes {
  @Public()
  open(): void {}
  @RequireScopes('chat:read')
  read(): void {}
  @RequireScopes('chat:write', 'admin')
  writeAdmin(): void {}
  @RequireScopes()
  anyone(): void {}
  @SessionOnly()
  sessionOnly(): void {}
  undecorated(): void {}
}

@RequireScopes('admin')
class AdminRoutes {
  list(): void {}
  @RequireScopes('chat:read')
  narrower(): void {}
}

const codec = new AccessTokenCodec({
  keys: [{ id: 'k1', key: new Uint8Array(32).fill(3) }],
  currentKeyId: 'k1',
  issuer: 'gigachat-test',
  audience: 'gigachat-test',
  ttlSeconds: 60,
});
const API_TOKEN = `gct_${'A'.repeat(43)}`;

function guardWith(apiTokenScopes: Scope[] = [], revoked = false) {
  const revocations = { isRevoked: () => Promise.resolve(revoked) } as unknown as SessionRevocations;
  const apiTokens = {
    authenticate: (secret: string): Promise<Principal> =>
      secret === API_TOKEN
        ? Promise.resolve({ userId: 'u1', sessionId: 't1', role: 'admin', scopes: apiTokenScopes, kind: 'api_token' })
        : Promise.reject(new UnauthorizedError('The API token is not valid')),
  } as unknown as ApiTokenAuthenticator;
  return new AuthGuard(new Reflector(), codec, revocations, apiTokens);
}

function context(target: object, method: string, authorization?: string) {
  const req = { header: (name: string) => (name === 'authorization' ? authorization : undefined) } as Request;
  const ctx = {
    getType: () => 'http',
    getHandler: () => (target as Record<string, unknown>)[method],
    getClass: () => (target as { constructor: unknown }).constructor,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { ctx, req };
}

async function session(role: 'user' | 'admin'): Promise<string> {
  return `Bearer ${(await codec.issue({ sub: 'u1', sid: 's1', role })).token}`;
}

async function outcome(guard: AuthGuard, target: object, method: string, auth?: string): Promise<string> {
  try {
    await guard.canActivate(context(target, method, auth).ctx);
    return 'allowed';
  } catch (error) {
    if (error instanceof AppError) return `${error.status} ${error.code}: ${error.detail}`;
    throw error;
  }
}

describe('AuthGuard', () => {
  it('lets anyone through a @Public() route, with or without a credential', async () => {
    expect(await outcome(guardWith(), Routes.prototype, 'open')).toBe('allowed');
    expect(await outcome(guardWith(), Routes.prototype, 'open', 'Bearer garbage-garbage')).toBe('allowed');
  });

  it('gives a session every scope of its role', async () => {
    const { ctx, req } = context(Routes.prototype, 'read', await session('user'));
    await expect(guardWith().canActivate(ctx)).resolves.toBe(true);
    expect(req.principal).toEqual({
      userId: 'u1',
      sessionId: 's1',
      role: 'user',
      scopes: ['chat:read', 'chat:write', 'files:read', 'files:write'],
      kind: 'session',
    });
    expect(await outcome(guardWith(), Routes.prototype, 'writeAdmin', await session('user'))).toBe(
      '403 forbidden: This route needs the scope admin',
    );
    expect(await outcome(guardWith(), Routes.prototype, 'writeAdmin', await session('admin'))).toBe('allowed');
  });

  it('holds an API token to its own scopes, naming what is missing', async () => {
    const guard = guardWith(['chat:read']);
    const { ctx, req } = context(Routes.prototype, 'read', `Bearer ${API_TOKEN}`);
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(req.principal).toMatchObject({ kind: 'api_token', scopes: ['chat:read'] });
    expect(await outcome(guard, Routes.prototype, 'writeAdmin', `Bearer ${API_TOKEN}`)).toBe(
      '403 forbidden: This route needs the scopes chat:write, admin',
    );
    expect(await outcome(guard, Routes.prototype, 'anyone', `Bearer ${API_TOKEN}`)).toBe('allowed');
  });

  it('keeps API tokens off @SessionOnly() routes and off routes without @RequireScopes', async () => {
    const guard = guardWith(['chat:read', 'chat:write', 'files:read', 'files:write', 'admin']);
    for (const method of ['sessionOnly', 'undecorated']) {
      expect(await outcome(guard, Routes.prototype, method, `Bearer ${API_TOKEN}`)).toMatch(
        /^403 forbidden: .*session/,
      );
      expect(await outcome(guard, Routes.prototype, method, await session('user'))).toBe('allowed');
    }
  });

  it('lets a method’s scopes override its controller’s', async () => {
    const guard = guardWith(['chat:read']);
    expect(await outcome(guard, AdminRoutes.prototype, 'list', `Bearer ${API_TOKEN}`)).toMatch(/scope admin$/);
    expect(await outcome(guard, AdminRoutes.prototype, 'narrower', `Bearer ${API_TOKEN}`)).toBe('allowed');
  });

  it('refuses missing, malformed, unknown and revoked credentials with 401', async () => {
    for (const auth of [undefined, '', 'Basic abcdefghijkl', 'Bearer short', `Bearer gct_${'B'.repeat(43)}`]) {
      expect(await outcome(guardWith(), Routes.prototype, 'read', auth)).toMatch(/^401 unauthorized/);
    }
    expect(await outcome(guardWith([], true), Routes.prototype, 'read', await session('admin'))).toBe(
      '401 unauthorized: This session has ended; log in again',
    );
  });
});
