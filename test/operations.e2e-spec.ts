import type { Response, Test } from 'supertest';
import { servedRoutes } from './support/served-routes';
import { Harness, signUp, startHarness } from './support/harness';

/*
 * Operations: health endpoints, the OpenAPI document against the routes the server really serves, request ids on
 * every response, and the security headers.
 */

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROBLEM_JSON = /^application\/problem\+json(;|$)/;

/**
 * Every route the e2e suites exercise (bad-input.e2e-spec.ts has a case table for each; chat-turn.e2e-spec.ts and
 * this file call them too), with the status it answers on success and whether it is public.
 */
const EXERCISED: { route: string; success: string[]; public?: boolean }[] = [
  { route: 'GET /health/live', success: ['200'], public: true },
  { route: 'GET /health/ready', success: ['200'], public: true },
  { route: 'GET /metrics', success: ['200'], public: true },
  { route: 'POST /api/v1/auth/register', success: ['201'], public: true },
  { route: 'POST /api/v1/auth/login', success: ['200'], public: true },
  { route: 'POST /api/v1/auth/refresh', success: ['200'], public: true },
  { route: 'POST /api/v1/auth/logout', success: ['204'] },
  { route: 'GET /api/v1/auth/me', success: ['200'] },
  { route: 'POST /api/v1/auth/password', success: ['204'] },
  { route: 'POST /api/v1/auth/2fa/setup', success: ['200'] },
  { route: 'POST /api/v1/auth/2fa/enable', success: ['200'] },
  { route: 'POST /api/v1/auth/2fa/disable', success: ['204'] },
  { route: 'POST /api/v1/admin/users/{id}/unlock', success: ['204'] },
  { route: 'GET /api/v1/admin/users', success: ['200'] },
  { route: 'PATCH /api/v1/admin/users/{id}', success: ['200'] },
  { route: 'GET /api/v1/admin/audit', success: ['200'] },
  { route: 'POST /api/v1/codec/encode', success: ['200'] },
  { route: 'POST /api/v1/codec/decode', success: ['200'] },
  { route: 'POST /api/v1/codec/session', success: ['200'] },
  { route: 'DELETE /api/v1/codec/session', success: ['204'] },
  { route: 'POST /api/v1/tokens', success: ['201'] },
  { route: 'GET /api/v1/tokens', success: ['200'] },
  { route: 'GET /api/v1/tokens/{id}', success: ['200'] },
  { route: 'DELETE /api/v1/tokens/{id}', success: ['204'] },
  { route: 'POST /api/v1/conversations', success: ['201'] },
  { route: 'GET /api/v1/conversations', success: ['200'] },
  { route: 'GET /api/v1/conversations/{id}', success: ['200'] },
  { route: 'DELETE /api/v1/conversations/{id}', success: ['204'] },
  { route: 'POST /api/v1/conversations/{id}/messages', success: ['200', '202'] },
  { route: 'GET /api/v1/turns/{turnId}', success: ['200'] },
  { route: 'POST /api/v1/turns/{turnId}/cancel', success: ['202'] },
  { route: 'GET /api/v1/models', success: ['200'] },
  { route: 'GET /api/v1/tools', success: ['200'] },
  { route: 'POST /api/v1/turns/{turnId}/tool-calls/{callId}/approve', success: ['200'] },
  { route: 'POST /api/v1/turns/{turnId}/tool-calls/{callId}/deny', success: ['200'] },
  { route: 'POST /api/v1/mcp-servers', success: ['201'] },
  { route: 'GET /api/v1/mcp-servers', success: ['200'] },
  { route: 'DELETE /api/v1/mcp-servers/{id}', success: ['204'] },
  { route: 'POST /api/v1/mcp-servers/{id}/oauth', success: ['200'] },
  { route: 'POST /api/v1/mcp-servers/oauth/complete', success: ['200'] },
  { route: 'GET /api/v1/turns/{turnId}/events', success: ['200'] },
  { route: 'POST /api/v1/conversations/{id}/shares', success: ['201'] },
  { route: 'GET /api/v1/conversations/{id}/shares', success: ['200'] },
  { route: 'DELETE /api/v1/conversations/{id}/shares/{userId}', success: ['204'] },
  { route: 'PATCH /api/v1/conversations/{id}', success: ['200'] },
  { route: 'GET /api/v1/conversations/{id}/messages', success: ['200'] },
  { route: 'GET /api/v1/conversations/{id}/export', success: ['200'] },
  { route: 'POST /api/v1/conversations/import', success: ['201'] },
  { route: 'PATCH /api/v1/messages/{id}', success: ['200', '202'] },
  { route: 'POST /api/v1/messages/{id}/regenerate', success: ['200', '202'] },
  { route: 'POST /api/v1/messages/{id}/feedback', success: ['200', '201'] },
  { route: 'GET /api/v1/search/messages', success: ['200'] },
  { route: 'POST /api/v1/files', success: ['202'] },
  { route: 'GET /api/v1/files', success: ['200'] },
  { route: 'GET /api/v1/files/{id}', success: ['200'] },
  { route: 'GET /api/v1/files/{id}/content', success: ['200'] },
  { route: 'DELETE /api/v1/files/{id}', success: ['204'] },
  { route: 'POST /api/v1/replays', success: ['202'] },
  { route: 'GET /api/v1/replays', success: ['200'] },
  { route: 'GET /api/v1/replays/{id}', success: ['200'] },
  { route: 'GET /api/v1/replays/{id}/results', success: ['200'] },
  { route: 'GET /api/v1/replays/{id}/report', success: ['200'] },
  { route: 'POST /api/v1/replays/{id}/pause', success: ['200'] },
  { route: 'POST /api/v1/replays/{id}/resume', success: ['200'] },
  { route: 'POST /api/v1/replays/{id}/cancel', success: ['200'] },
  { route: 'GET /v1/models', success: ['200'] },
  { route: 'POST /v1/chat/completions', success: ['200'] },
];

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

describe('operations: health, OpenAPI, request ids, security headers', () => {
  let h: Harness;
  let auth: string;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    h = await startHarness('operations', { worker: false, fakeLlm: false });
    ({ auth } = await signUp(h, 'ops'));
    const res = await h.http.get('/api/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDocument;
  });
  afterAll(async () => h?.close());

  function documentedRoutes(): string[] {
    return Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
  }

  describe('health', () => {
    it('GET /health/live → 200 {status: "ok"}', async () => {
      const res = await h.http.get('/health/live');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('GET /health/ready → 200 with database, Redis, Temporal and the object store up', async () => {
      const res = await h.http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'ok',
        checks: {
          database: { status: 'up', ms: expect.any(Number) },
          redis: { status: 'up', ms: expect.any(Number) },
          temporal: { status: 'up', ms: expect.any(Number) },
          objectStore: { status: 'up', ms: expect.any(Number) },
        },
      });
    });

    it('needs no token, and is not under /api/v1', async () => {
      for (const path of ['/health/live', '/health/ready']) {
        expect((await h.http.get(path).set('Authorization', 'Bearer garbage-garbage')).status).toBe(200);
        const prefixed = await h.http.get(`/api/v1${path}`);
        expect([prefixed.status, prefixed.body.code]).toEqual([404, 'route_not_found']);
      }
    });
  });

  describe('OpenAPI', () => {
    it('is an OpenAPI 3 document with a bearer security scheme', () => {
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info).toMatchObject({ title: expect.stringMatching(/\S/), version: expect.stringMatching(/\S/) });
      expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    it('documents exactly the routes the server serves', () => {
      expect(documentedRoutes()).toEqual(servedRoutes(h));
    });

    it('serves every route the e2e suites exercise', () => {
      const served = servedRoutes(h);
      expect(EXERCISED.map((r) => r.route).filter((route) => !served.includes(route))).toEqual([]);
    });

    it('lists every served route in EXERCISED (bad-input.e2e-spec.ts checks its own cases cover each)', () => {
      const exercised = EXERCISED.map((r) => r.route);
      expect(servedRoutes(h).filter((route) => !exercised.includes(route))).toEqual([]);
    });

    it('marks exactly the routes that answer 401 without a token with bearer security', async () => {
      // Asked, not assumed: every served route is called without a token (path ids filled with a UUID nobody has).
      const mismatches: string[] = [];
      for (const route of servedRoutes(h)) {
        const [method, path] = route.split(' ') as [string, string];
        const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await h.http[method.toLowerCase() as 'get' | 'post' | 'delete'](url).set(
          'X-Forwarded-For',
          `198.19.0.${mismatches.length + 1}`,
        );
        const needsToken = res.status === 401;
        const operation = doc.paths[path]?.[method.toLowerCase()];
        const bearer = (operation?.security ?? []).some((requirement) => 'bearer' in requirement);
        if (bearer !== needsToken) mismatches.push(`${route}: answered ${res.status}, documents bearer: ${bearer}`);
        const exercised = EXERCISED.find((r) => r.route === route);
        if (exercised && Boolean(exercised.public) === needsToken)
          mismatches.push(`${route}: EXERCISED says otherwise`);
      }
      expect(mismatches).toEqual([]);
    });

    it('documents every path parameter as a required path parameter', () => {
      for (const [path, operations] of Object.entries(doc.paths)) {
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const [method, operation] of Object.entries(operations)) {
          const documented = (operation.parameters ?? []).filter((p) => p.in === 'path' && p.required);
          expect([`${method} ${path}`, documented.map((p) => p.name).sort()]).toEqual([
            `${method} ${path}`,
            [...names].sort(),
          ]);
        }
      }
    });

    it('documents error answers as application/problem+json, and 401 on every route that needs a token', () => {
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const route = `${method.toUpperCase()} ${path}`;
          for (const [status, response] of Object.entries(operation.responses)) {
            if (Number(status) >= 400) {
              expect([route, status, Object.keys(response.content ?? {})]).toEqual([
                route,
                status,
                ['application/problem+json'],
              ]);
            }
          }
          const bearer = (operation.security ?? []).some((requirement) => 'bearer' in requirement);
          if (bearer)
            expect([route, Object.keys(operation.responses)]).toEqual([route, expect.arrayContaining(['401'])]);
        }
      }
    });

    it('documents the success status each route answers with', () => {
      // Regression: @ApiProblems(...) adds @ApiResponse entries, and @nestjs/swagger then drops the implicit success
      // response, so most operations documented only their errors.
      const missing = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) => {
          const route = `${method.toUpperCase()} ${path}`;
          const documented = Object.keys(operation.responses);
          const expected = EXERCISED.find((r) => r.route === route)?.success ?? ['2XX'];
          return expected
            .filter((status) =>
              status === '2XX' ? !documented.some((d) => /^2/.test(d)) : !documented.includes(status),
            )
            .map((status) => `${route} ${status}`);
        }),
      );
      expect(missing).toEqual([]);
    });

    it('serves the browsable UI at /api/docs', async () => {
      const res = await h.http.get('/api/docs');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('swagger-ui');
      const init = await h.http.get('/api/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.text).toContain('/api/v1/auth/register');
    });
  });

  /** What each of RESPONSES must answer, body included: the headers alone do not prove the right layer answered. */
  const problem = (status: number, code: string) => (res: Response) => {
    expect([res.status, res.headers['content-type']]).toEqual([status, expect.stringMatching(PROBLEM_JSON)]);
    expect(res.body).toMatchObject({ status, code, title: expect.stringMatching(/\S/) });
  };
  const ok = (type: RegExp, body: (res: Response) => void) => (res: Response) => {
    expect([res.status, res.headers['content-type']]).toEqual([200, expect.stringMatching(type)]);
    body(res);
  };

  /** A spread of responses from every layer: Nest handlers, Swagger, the body pipeline, the 404 handler, guards. */
  const RESPONSES: [string, (r: (req: Test) => Test) => Promise<Response>, (res: Response) => void][] = [
    [
      'GET /health/live (200)',
      (r) => r(h.http.get('/health/live')),
      ok(/^application\/json/, (res) => expect(res.body).toEqual({ status: 'ok' })),
    ],
    [
      'GET /health/ready (200)',
      (r) => r(h.http.get('/health/ready')),
      ok(/^application\/json/, (res) => expect(res.body).toMatchObject({ status: 'ok' })),
    ],
    [
      'GET /api/docs (HTML)',
      (r) => r(h.http.get('/api/docs')),
      ok(/^text\/html/, (res) => expect(res.text).toContain('swagger-ui')),
    ],
    [
      'GET /api/docs-json',
      (r) => r(h.http.get('/api/docs-json')),
      ok(/^application\/json/, (res) => expect(res.body.openapi).toMatch(/^3\./)),
    ],
    [
      'GET /api/v1/auth/me (200)',
      (r) => r(h.http.get('/api/v1/auth/me').set('Authorization', auth)),
      ok(/^application\/json/, (res) =>
        expect(res.body).toMatchObject({ id: expect.any(String), email: expect.any(String) }),
      ),
    ],
    ['GET /api/v1/auth/me (401)', (r) => r(h.http.get('/api/v1/auth/me')), problem(401, 'unauthorized')],
    ['GET /api/v1/nope (404 route)', (r) => r(h.http.get('/api/v1/nope')), problem(404, 'route_not_found')],
    [
      'GET /api/v1/conversations/abc (400)',
      (r) => r(h.http.get('/api/v1/conversations/abc').set('Authorization', auth)),
      problem(400, 'validation_failed'),
    ],
    [
      'POST /api/v1/auth/login text/plain (415)',
      (r) => r(h.http.post('/api/v1/auth/login')).set('Content-Type', 'text/plain').send('hi'),
      problem(415, 'unsupported_media_type'),
    ],
    [
      'POST /api/v1/auth/login malformed (400)',
      (r) => r(h.http.post('/api/v1/auth/login')).set('Content-Type', 'application/json').send('{'),
      problem(400, 'invalid_json'),
    ],
    [
      'POST /api/v1/auth/login too large (413)',
      (r) =>
        r(h.http.post('/api/v1/auth/login'))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ pad: 'a'.repeat(1024 * 1024) })),
      problem(413, 'payload_too_large'),
    ],
  ];

  describe('X-Request-Id', () => {
    it.each(RESPONSES)('%s carries a generated UUID', async (_name, send, answered) => {
      const res = await send((req) => req);
      answered(res);
      expect(res.headers['x-request-id']).toMatch(UUID_V4);
      if (PROBLEM_JSON.test(String(res.headers['content-type']))) {
        expect(res.body.requestId).toBe(res.headers['x-request-id']);
      }
    });

    it.each(RESPONSES)('%s echoes a well-formed incoming id', async (_name, send, answered) => {
      const id = `ops-${Math.random().toString(36).slice(2, 10)}`;
      const res = await send((req) => req.set('X-Request-Id', id));
      answered(res);
      expect(res.headers['x-request-id']).toBe(id);
      if (PROBLEM_JSON.test(String(res.headers['content-type']))) expect(res.body.requestId).toBe(id);
    });

    it.each([
      ['8 characters', 'abcd1234'],
      ['128 characters', 'r'.repeat(128)],
      ['every allowed punctuation', 'trace.id_01:span-02'],
      ['a UUID', '2b7c9a0e-5d1f-4c3b-9a8e-1f2d3c4b5a69'],
    ])('echoes %s', async (_what, id) => {
      const res = await h.http.get('/health/live').set('X-Request-Id', id);
      expect(res.headers['x-request-id']).toBe(id);
    });

    it.each([
      ['spaces', 'has spaces in it'],
      ['500 characters', 'x'.repeat(500)],
      ['129 characters', 'r'.repeat(129)],
      ['7 characters', 'abc1234'],
      ['an empty value', ''],
      ['a semicolon', 'abc;def123'],
      ['a slash', 'abc/def123'],
      ['a quote', 'abc"def123'],
      ['a non-ASCII letter', 'r\u00e9quest-12345'],
      ['header injection attempt', 'abcdefgh%0d%0aSet-Cookie:x=1'],
    ])('replaces an id with %s by a generated UUID, in the header and the problem body', async (_what, id) => {
      const res = await h.http.get('/api/v1/nope').set('X-Request-Id', id);
      expect(res.headers['x-request-id']).toMatch(UUID_V4);
      expect(res.headers['x-request-id']).not.toBe(id);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toMatchObject({ code: 'route_not_found', requestId: res.headers['x-request-id'] });
    });

    it('generates a different id for every request', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i += 1) ids.add((await h.http.get('/health/live')).headers['x-request-id']!);
      expect(ids.size).toBe(5);
    });
  });

  describe('security headers', () => {
    it.each(RESPONSES)(
      '%s: X-Content-Type-Options nosniff, Referrer-Policy, no X-Powered-By',
      async (_name, send, answered) => {
        const res = await send((req) => req);
        answered(res);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['x-powered-by']).toBeUndefined();
      },
    );

    it('API answers are not cached', async () => {
      for (const res of [
        await h.http.get('/api/v1/auth/me').set('Authorization', auth),
        await h.http.get('/api/v1/auth/me'),
      ]) {
        expect(res.headers['cache-control']).toBe('no-store');
      }
    });
  });
});
