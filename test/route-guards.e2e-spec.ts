import { servedRoutes } from './support/served-routes';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { IS_PUBLIC } from '../apps/api/src/common/public.decorator';
import { REQUIRED_SCOPES, SESSION_ONLY } from '../apps/api/src/security/require-scopes.decorator';
import { REQUIRED_ROLES } from '../apps/api/src/security/roles.guard';
import { refusal, Scope } from '../apps/api/src/security/scopes';
import { Harness, signUp, startHarness } from './support/harness';

/*
 * "No route without an explicit guard": every route the Nest application serves is found through Nest's own module
 * graph (every controller, every handler), checked against the Express router so none is missed, and must say who
 * may call it — @Public(), @RequireScopes(...), @SessionOnly() or @Roles(...). Then each route is called with an API
 * token holding a scope no route needs, and must answer exactly as its metadata says.
 */

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Controllers whose file this work does not own yet (the 2FA work has auth.controller.ts open): their routes fall
 * back to the guard's default — sessions only, API tokens refused — which the behaviour check below still verifies.
 * Remove an entry once its routes carry explicit decorators (then the test insists on them).
 */
const AWAITING_DECORATORS = new Set<string>();

interface DiscoveredRoute {
  route: string;
  handler: string;
  controller: string;
  isPublic: boolean;
  scopes?: Scope[];
  sessionOnly: boolean;
  roles?: string[];
}

describe('route guards: every served route declares who may call it', () => {
  let h: Harness;
  let routes: DiscoveredRoute[];

  beforeAll(async () => {
    h = await startHarness('routeguards', { worker: false, fakeLlm: false });
    routes = discoverRoutes(h);
  });
  afterAll(async () => h?.close());

  function discoverRoutes(on: Harness): DiscoveredRoute[] {
    const scanner = new MetadataScanner();
    const served = new Set(servedRoutes(h));
    const found: DiscoveredRoute[] = [];
    for (const module of on.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
        if (!controller) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
        for (const name of scanner.getAllMethodNames(controller.prototype as object)) {
          const handler = (controller.prototype as Record<string, unknown>)[name] as object;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (path === undefined || method === undefined) continue;
          const joined = [base, path]
            .map((part) => part.replace(/^\/+|\/+$/g, ''))
            .filter(Boolean)
            .join('/')
            .replace(/:(\w+)/g, '{$1}');
          const verb = RequestMethod[method];
          const prefixed = `${verb} /api/v1/${joined}`;
          const route = served.has(prefixed) ? prefixed : `${verb} /${joined}`;
          const meta = <T>(key: string): T | undefined =>
            (Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller)) as T | undefined;
          found.push({
            route,
            handler: `${controller.name}.${name}`,
            controller: controller.name,
            isPublic: meta<boolean>(IS_PUBLIC) === true,
            scopes: meta<Scope[]>(REQUIRED_SCOPES),
            sessionOnly: meta<boolean>(SESSION_ONLY) === true,
            roles: meta<string[]>(REQUIRED_ROLES),
          });
        }
      }
    }
    // Code-unit order, as servedRoutes sorts (localeCompare puts "/import" and "/{id}" the other way round).
    return found.sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));
  }

  it('finds through Nest exactly the routes Express serves', () => {
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.map((r) => r.route)).toEqual(servedRoutes(h));
  });

  it('has no route that is neither @Public() nor guarded by @RequireScopes, @SessionOnly or @Roles', () => {
    const unguarded = routes
      .filter((r) => !r.isPublic && r.scopes === undefined && !r.sessionOnly && !r.roles?.length)
      .filter((r) => !AWAITING_DECORATORS.has(r.controller))
      .map((r) => `${r.route} (${r.handler})`);
    expect(unguarded).toEqual([]);
  });

  it('puts the admin scope and the admin role together on every admin route', () => {
    const admin = routes.filter((r) => / \/api\/v1\/admin\//.test(r.route));
    expect(admin.length).toBeGreaterThanOrEqual(4);
    for (const r of admin) expect([r.route, r.scopes, r.roles]).toEqual([r.route, ['admin'], ['admin']]);
  });

  it('keeps public routes to health, metrics (which checks its own token or a loopback client) and the unauthenticated auth routes', () => {
    expect(routes.filter((r) => r.isPublic).map((r) => r.route)).toEqual(
      expect.arrayContaining(['GET /health/live', 'GET /health/ready', 'POST /api/v1/auth/login']),
    );
    for (const r of routes.filter((x) => x.isPublic)) {
      expect(r.route).toMatch(/^(GET \/health\/|GET \/metrics$|POST \/api\/v1\/auth\/(register|login|refresh)$)/);
    }
  });

  it('answers each route as its metadata says for an API token with a scope no route needs', async () => {
    const owner = await signUp(h, 'guardowner'); // the first account: an admin, so roles are not what refuses
    const created = await h.http
      .post('/api/v1/tokens')
      .set('Authorization', owner.auth)
      .send({ name: 'files only', scopes: ['files:read'] });
    expect(created.status).toBe(201);
    const token = `Bearer ${created.body.token}`;

    const mismatches: string[] = [];
    for (const r of routes.filter((x) => !x.isPublic)) {
      const [method, path] = r.route.split(' ') as [string, string];
      const url = path.replace(/\{\w+\}/g, MISSING_ID);
      const res = await h.http[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](url).set(
        'Authorization',
        token,
      );
      const expected = refusal({ kind: 'api_token', scopes: ['files:read'] }, r);
      const refused = res.status === 403 && res.body.code === 'forbidden';
      if (Boolean(expected) !== refused || res.status === 401) {
        mismatches.push(`${r.route}: answered ${res.status} ${res.body.code}, expected ${expected ?? 'access'}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses every non-public route without a credential (401)', async () => {
    const statuses: string[] = [];
    for (const r of routes.filter((x) => !x.isPublic)) {
      const [method, path] = r.route.split(' ') as [string, string];
      const res = await h.http[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](
        path.replace(/\{\w+\}/g, MISSING_ID),
      ).set('X-Forwarded-For', `198.19.1.${statuses.length + 1}`);
      statuses.push(`${r.route} ${res.status}`);
    }
    expect(statuses).toEqual(routes.filter((x) => !x.isPublic).map((r) => `${r.route} 401`));
  });
});
