import { CommonError } from '#libs/errors/app-error';

/** 429: the caller spent its allowance for this window; the headers say when it refills. */
export class RateLimitedError extends CommonError {
  constructor(retryAfterSeconds: number, headers: Record<string, string>) {
    super('rate_limited', `Too many requests; try again in ${retryAfterSeconds} s`, {
      headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
    });
  }
}
