import type { Principal } from '../auth/principal';

declare module 'express-serve-static-core' {
  interface Request {
    /** Taken from `X-Request-Id` when well-formed, else generated. */
    requestId: string;
    principal?: Principal;
    startedAt: bigint;
  }
}

export {};
