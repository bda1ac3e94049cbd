import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The web client (apps/web, built by `npm run build` into dist/web) served at `/`. This is Express middleware mounted
 * in front of Nest's router, not a Nest route: it answers only GET/HEAD requests outside the API's own paths, so the
 * route table, the OpenAPI document and the route guards' checks describe exactly the API. What it serves:
 *
 * - `/assets/*` — Vite's content-hashed files: `Cache-Control: public, max-age=31536000, immutable`, gzip when the
 *   browser accepts it (the build writes `.gz` beside each file);
 * - other files at the top of dist/web (the icon) — `Cache-Control: no-cache`;
 * - `/` and every other path a browser navigates to (`Accept: text/html`, no file extension) — `index.html` with
 *   `Cache-Control: no-cache` and a strict Content-Security-Policy, so client-side routes survive a reload.
 *
 * Anything else falls through to Nest: `/api/…`, `/health/…`, `/metrics`, `/ws`, `/v1/…` (the OpenAI-compatible API) and unknown paths asked for by
 * non-browsers keep answering problem+json (`404 route_not_found` included).
 */

/** Served with the HTML: nothing inline, nothing from elsewhere, no framing. */
export const WEB_CLIENT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** Paths that belong to the API and are never the client's, whatever the request accepts. */
const API_PATHS = /^\/(api|health|metrics|ws|v1)(\/|$)/;
const ASSET_PATH = /^\/assets\/[A-Za-z0-9._-]+$/;
const TOP_LEVEL_FILE = /^\/[A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const MISSING_BUILD_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GigaChat</title></head><body>' +
  '<h1>GigaChat</h1><p>The web client has not been built. Run <code>npm run build</code>, then reload.</p>' +
  '<p>The API is at <a href="/api/docs">/api/docs</a>.</p></body></html>';

/** dist/web of this checkout: found from the package root, so it is the same from dist/ and from the sources. */
export function defaultWebClientDir(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve('dist', 'web');
    dir = parent;
  }
  return join(dir, 'dist', 'web');
}

export function webClient(dir: string = defaultWebClientDir()): RequestHandler {
  const root = resolve(dir);
  const indexPath = join(root, 'index.html');
  // Read once: the HTML names the hashed assets of the build this process was started with.
  const index = existsSync(indexPath) ? readFileSync(indexPath) : undefined;
  // The build's files never change while the process runs: each is read once (dist/web is a few hundred KB).
  // Misses are not remembered, so requests for made-up names cannot grow the cache.
  const files = new Map<string, Buffer>();
  const read = (file: string): Buffer | null => {
    const cached = files.get(file);
    if (cached) return cached;
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return null;
    const body = readFileSync(file);
    files.set(file, body);
    return body;
  };

  const sendHtml = (req: Request, res: Response, body: Buffer | string, status = 200): void => {
    res.status(status);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', WEB_CLIENT_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  };

  const sendFile = (req: Request, res: Response, path: string, cacheControl: string): boolean => {
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) return false;
    const plain = read(file);
    if (!plain) return false;
    const type = CONTENT_TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
    const gzipped = /\bgzip\b/.test(req.header('accept-encoding') ?? '') ? read(`${file}.gz`) : null;
    const compressed = gzipped !== null;
    const body = gzipped ?? plain;
    res.status(200);
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('Vary', 'Accept-Encoding');
    if (compressed) res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', body.length);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
    return true;
  };

  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path)) return next();
    if (ASSET_PATH.test(req.path)) {
      if (index && sendFile(req, res, req.path, IMMUTABLE)) return;
      return next();
    }
    if (TOP_LEVEL_FILE.test(req.path)) {
      if (index && req.path !== '/index.html' && sendFile(req, res, req.path, 'no-cache')) return;
      return next();
    }
    const navigation = req.path === '/' || /\btext\/html\b/.test(req.header('accept') ?? '');
    if (!navigation || req.path.includes('.')) return next();
    sendHtml(req, res, index ?? MISSING_BUILD_PAGE, index ? 200 : 503);
  };
}
