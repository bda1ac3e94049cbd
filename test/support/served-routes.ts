import type { Harness } from './harness';

type RouterStack = { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };

/** The routes Express will dispatch (Swagger UI's own excepted), as `METHOD /path/{param}`, sorted. */
export function servedRoutes(h: Harness): string[] {
  const express = h.app.getHttpAdapter().getInstance() as { router?: RouterStack; _router?: RouterStack };
  const stack = (express.router ?? express._router)!.stack;
  return stack
    .flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods)
            .filter((method) => method !== '_all')
            .map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`)
        : [],
    )
    .filter((route) => !/ \/api\/docs/.test(route))
    .sort();
}
