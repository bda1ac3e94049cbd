import type { NextFunction, Request, Response } from 'express';

/** Where the codec routes live; the Temporal UI appends `/encode` and `/decode` to the endpoint it is given. */
export const CODEC_PATH = '/api/v1/codec/';

/**
 * CORS for the codec routes alone, and only for the Temporal UI's origins (`TEMPORAL_UI_ORIGINS`): the UI calls them
 * from the browser with the admin's credentials. Preflights end here; other origins get no CORS headers, so a
 * browser on any other page cannot read an answer. Every other route keeps `API_CORS_ORIGINS`.
 */
export function codecCors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.path.startsWith(CODEC_PATH)) return next();
    const origin = req.headers.origin;
    const known = typeof origin === 'string' && allowed.has(origin);
    res.vary('Origin');
    if (known) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') return next();
    if (known) {
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  };
}
