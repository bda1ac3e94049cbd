import type { Request } from 'express';

/** Who made a request, as the audit log records it. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export function clientInfo(req: Request): ClientInfo {
  return {
    ip: req.ip ?? null,
    userAgent: req.header('user-agent')?.slice(0, 255) ?? null,
    requestId: req.requestId,
  };
}
