import type { Request } from 'express';
import { isIP } from 'node:net';

/** Who made a request, as the audit log records it. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export function clientInfo(req: Request): ClientInfo {
  return {
    // req.ip may come from X-Forwarded-For (trusted from loopback proxies): keep it only when it is an address.
    ip: req.ip && isIP(req.ip) ? req.ip : null,
    userAgent: req.header('user-agent')?.slice(0, 255) ?? null,
    requestId: req.requestId,
  };
}
