/** One request counted in a fixed window: how many the window has seen so far and when it ends. */
export interface RateLimitWindow {
  limit: number;
  windowSeconds: number;
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends (≤ 0 when unknown). */
  resetMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the window ends and requests are allowed again (≥ 1). */
  resetSeconds: number;
  /**
   * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (delta seconds) and `RateLimit-Policy`, as in
   * draft-ietf-httpapi-ratelimit-headers-06, plus `Retry-After` when the request is refused.
   */
  headers: Record<string, string>;
}

export function decideRateLimit(window: RateLimitWindow): RateLimitDecision {
  const allowed = window.count <= window.limit;
  const remaining = Math.max(0, window.limit - window.count);
  const resetSeconds =
    window.resetMs > 0
      ? Math.min(window.windowSeconds, Math.max(1, Math.ceil(window.resetMs / 1000)))
      : window.windowSeconds;
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(window.limit),
    'RateLimit-Remaining': String(remaining),
    'RateLimit-Reset': String(resetSeconds),
    'RateLimit-Policy': `${window.limit};w=${window.windowSeconds}`,
  };
  if (!allowed) headers['Retry-After'] = String(resetSeconds);
  return { allowed, resetSeconds, headers };
}
