/**
 * ioredis's words for a command it never got answered — no connection (the API does not queue commands while
 * offline), the connection closed under it, its retries spent, or its time up — as opposed to Redis refusing the
 * command itself (a `ReplyError`, our bug).
 */
const UNREACHABLE_MESSAGE =
  /^(Stream isn't writeable and enableOfflineQueue options is false|Connection is closed\.|Reached the max retries per request limit|Command timed out)/;

/** Redis is down or unreachable: a request that meets it changed nothing in Redis and may be retried. */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && UNREACHABLE_MESSAGE.test(error.message);
}
