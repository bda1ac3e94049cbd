import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';

/**
 * What the WebSocket's messages ask of a caller, declared like a controller's routes so the same guards (AuthGuard
 * for the credential and its scopes, RateLimitGuard for the chat allowance) enforce them. Never routed over HTTP.
 */
export class RealtimeRoutes {
  /** `auth` (and every later message): a credential that may read chats. */
  @RequireScopes('chat:read')
  connect(this: void): void {}

  /** `send`: the same needs as `POST /conversations/:id/messages`. */
  @RequireScopes('chat:write')
  @RateLimit('chat')
  send(this: void): void {}
}
