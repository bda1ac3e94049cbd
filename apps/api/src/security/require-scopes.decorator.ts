import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiProblems } from '../common/problem.responses';
import type { Scope } from './scopes';

/** Metadata key of `@RequireScopes(...)`: the scopes a route needs (all of them). */
export const REQUIRED_SCOPES = 'gigachat:requiredScopes';
/** Metadata key of `@SessionOnly()`. */
export const SESSION_ONLY = 'gigachat:sessionOnly';

/**
 * The scopes a caller needs for a route (or every route of a controller): all of them, else 403 `forbidden` naming
 * the missing ones. Enforced by the global AuthGuard. With no scopes, any authenticated caller may use the route,
 * API tokens included. A route without this decorator (and not `@Public()`) is open to sessions only.
 */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_SCOPES, scopes), ApiProblems(403));

/**
 * A route only a login session may use, never an API token (managing API tokens, the password, 2FA): a leaked API
 * token must not be able to mint more tokens or take over the account. API tokens get 403 `forbidden`.
 */
export const SessionOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(SESSION_ONLY, true), ApiProblems(403));
