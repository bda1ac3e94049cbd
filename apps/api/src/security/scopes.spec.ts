import * as fc from 'fast-check';
import {
  effectiveTokenScopes,
  isScope,
  missingScopes,
  normalizeScopes,
  refusal,
  Scope,
  SCOPES,
  scopesForRole,
} from './scopes';

const scopeSet = fc.subarray([...SCOPES]);

describe('scopesForRole', () => {
  it('gives users chat and files, admins those and admin, anything else nothing', () => {
    expect(scopesForRole('user')).toEqual(['chat:read', 'chat:write', 'files:read', 'files:write']);
    expect(scopesForRole('admin')).toEqual(['chat:read', 'chat:write', 'files:read', 'files:write', 'admin']);
    expect(scopesForRole('root')).toEqual([]);
    expect(scopesForRole('')).toEqual([]);
  });

  it('returns a fresh array each time', () => {
    scopesForRole('user').push('admin');
    expect(scopesForRole('user')).not.toContain('admin');
  });
});

describe('isScope', () => {
  it('knows exactly the five scopes', () => {
    for (const scope of SCOPES) expect(isScope(scope)).toBe(true);
    for (const other of ['chat', 'chat:*', 'Admin', ' admin', 'files:delete', 1, null, undefined]) {
      expect(isScope(other)).toBe(false);
    }
  });
});

describe('effectiveTokenScopes', () => {
  it("drops scopes the owner's role no longer grants, and unknown stored values", () => {
    expect(effectiveTokenScopes(['admin', 'chat:read'], 'admin')).toEqual(['chat:read', 'admin']);
    expect(effectiveTokenScopes(['admin', 'chat:read'], 'user')).toEqual(['chat:read']);
    expect(effectiveTokenScopes(['chat:read', 'sudo'], 'user')).toEqual(['chat:read']);
    expect(effectiveTokenScopes(['chat:read'], 'nobody')).toEqual([]);
  });

  it('is always a subset of both the grant and the role', () => {
    fc.assert(
      fc.property(scopeSet, fc.constantFrom('user', 'admin', 'other'), (granted, role) => {
        const effective = effectiveTokenScopes(granted, role);
        expect(missingScopes(granted, effective)).toEqual([]);
        expect(missingScopes(scopesForRole(role), effective)).toEqual([]);
      }),
    );
  });
});

describe('normalizeScopes', () => {
  it('removes duplicates and sorts canonically', () => {
    expect(normalizeScopes(['admin', 'chat:read', 'admin'])).toEqual(['chat:read', 'admin']);
  });
});

describe('refusal', () => {
  const session = (scopes: Scope[]) => ({ kind: 'session' as const, scopes });
  const token = (scopes: Scope[]) => ({ kind: 'api_token' as const, scopes });

  it('lets a caller holding every required scope through', () => {
    expect(refusal(token(['chat:read', 'chat:write']), { scopes: ['chat:write'] })).toBeUndefined();
    expect(refusal(session(scopesForRole('user')), { scopes: ['chat:read', 'files:read'] })).toBeUndefined();
  });

  it('names each missing scope', () => {
    expect(refusal(token(['chat:read']), { scopes: ['chat:write'] })).toBe('This route needs the scope chat:write');
    expect(refusal(session(scopesForRole('user')), { scopes: ['admin'] })).toBe('This route needs the scope admin');
    expect(refusal(token([]), { scopes: ['chat:read', 'admin'] })).toBe('This route needs the scopes chat:read, admin');
  });

  it('lets any authenticated caller use a route that requires no scope', () => {
    expect(refusal(token(['files:read']), { scopes: [] })).toBeUndefined();
    expect(refusal(session([]), { scopes: [] })).toBeUndefined();
  });

  it('keeps API tokens off session-only routes and routes without @RequireScopes (fail closed)', () => {
    const all = token([...SCOPES]);
    expect(refusal(all, { sessionOnly: true })).toMatch(/login session/);
    expect(refusal(all, { scopes: [], sessionOnly: true })).toMatch(/login session/);
    expect(refusal(all, {})).toMatch(/login session/);
    expect(refusal(session([]), {})).toBeUndefined();
    expect(refusal(session(scopesForRole('user')), { sessionOnly: true })).toBeUndefined();
  });

  it('refuses exactly when a required scope is missing (property)', () => {
    fc.assert(
      fc.property(scopeSet, scopeSet, fc.boolean(), (held, required, isToken) => {
        const caller = isToken ? token(held) : session(held);
        const refused = refusal(caller, { scopes: required });
        expect(refused === undefined).toBe(required.every((scope) => held.includes(scope)));
      }),
    );
  });
});
