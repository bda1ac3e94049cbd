import type { UserRole } from '#libs/db/entities/user.entity';

/** What a caller may do. A session carries every scope of its role; an API token only those it was given. */
export const SCOPES = ['chat:read', 'chat:write', 'files:read', 'files:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const USER_SCOPES: readonly Scope[] = ['chat:read', 'chat:write', 'files:read', 'files:write'];
const ADMIN_SCOPES: readonly Scope[] = [...USER_SCOPES, 'admin'];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** Every scope a role grants (a session's scopes). Unknown roles grant nothing. */
export function scopesForRole(role: string): Scope[] {
  if (role === ('admin' satisfies UserRole)) return [...ADMIN_SCOPES];
  if (role === ('user' satisfies UserRole)) return [...USER_SCOPES];
  return [];
}

/** The scopes of `required` that `held` lacks, in the order required. */
export function missingScopes(held: readonly string[], required: readonly Scope[]): Scope[] {
  return required.filter((scope) => !held.includes(scope));
}

/**
 * The scopes an API token acts with right now: those it was given that its owner's current role still grants, so a
 * demoted admin's tokens lose `admin` at once. Unknown stored values are dropped. Sorted as {@link SCOPES}.
 */
export function effectiveTokenScopes(granted: readonly string[], ownerRole: string): Scope[] {
  const allowed = scopesForRole(ownerRole);
  return SCOPES.filter((scope) => granted.includes(scope) && allowed.includes(scope));
}

/** `scopes` without duplicates, in the canonical order of {@link SCOPES}. */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  return SCOPES.filter((scope) => scopes.includes(scope));
}

/** What a route asks of its caller: `@RequireScopes(...)` (undefined when absent) and `@SessionOnly()`. */
export interface RouteAccessRule {
  scopes?: readonly Scope[];
  sessionOnly?: boolean;
}

/**
 * Why `caller` may not use a route with `rule`, or undefined when it may. A route without `@RequireScopes` is open
 * to sessions only (fail closed for API tokens); with it, the caller needs every scope it names.
 */
export function refusal(
  caller: { kind: 'session' | 'api_token'; scopes: readonly string[] },
  rule: RouteAccessRule,
): string | undefined {
  if (caller.kind === 'api_token' && (rule.sessionOnly || rule.scopes === undefined)) {
    return 'This route needs a login session; API tokens cannot use it';
  }
  const missing = missingScopes(caller.scopes, rule.scopes ?? []);
  if (missing.length === 0) return undefined;
  return `This route needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
}
