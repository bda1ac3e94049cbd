import * as fc from 'fast-check';
import { decideRateLimit } from './rate-limit-decision';

describe('decideRateLimit', () => {
  it('allows up to the limit and counts the remainder down', () => {
    const first = decideRateLimit({ limit: 20, windowSeconds: 60, count: 1, resetMs: 60_000 });
    expect(first).toEqual({
      allowed: true,
      resetSeconds: 60,
      headers: {
        'RateLimit-Limit': '20',
        'RateLimit-Remaining': '19',
        'RateLimit-Reset': '60',
        'RateLimit-Policy': '20;w=60',
      },
    });
    const last = decideRateLimit({ limit: 20, windowSeconds: 60, count: 20, resetMs: 12_345 });
    expect(last.allowed).toBe(true);
    expect(last.headers['RateLimit-Remaining']).toBe('0');
    expect(last.headers['RateLimit-Reset']).toBe('13');
    expect(last.headers['Retry-After']).toBeUndefined();
  });

  it('refuses past the limit with Retry-After equal to the reset', () => {
    const over = decideRateLimit({ limit: 20, windowSeconds: 60, count: 21, resetMs: 4_001 });
    expect(over.allowed).toBe(false);
    expect(over.resetSeconds).toBe(5);
    expect(over.headers).toMatchObject({ 'RateLimit-Remaining': '0', 'RateLimit-Reset': '5', 'Retry-After': '5' });
  });

  it('rounds a reset up to whole seconds, at least 1 and at most the window', () => {
    expect(decideRateLimit({ limit: 1, windowSeconds: 60, count: 2, resetMs: 1 }).resetSeconds).toBe(1);
    expect(decideRateLimit({ limit: 1, windowSeconds: 60, count: 2, resetMs: 1000 }).resetSeconds).toBe(1);
    expect(decideRateLimit({ limit: 1, windowSeconds: 60, count: 2, resetMs: 1001 }).resetSeconds).toBe(2);
    expect(decideRateLimit({ limit: 1, windowSeconds: 60, count: 2, resetMs: 61_000 }).resetSeconds).toBe(60);
    // An unknown expiry (key without TTL) is reported as a whole window.
    expect(decideRateLimit({ limit: 1, windowSeconds: 60, count: 2, resetMs: -1 }).resetSeconds).toBe(60);
  });

  it('keeps its headers consistent for any window state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: -2, max: 90_000_000 }),
        (limit, windowSeconds, count, resetMs) => {
          const { allowed, resetSeconds, headers } = decideRateLimit({ limit, windowSeconds, count, resetMs });
          expect(allowed).toBe(count <= limit);
          expect(Number(headers['RateLimit-Remaining'])).toBe(Math.max(0, limit - count));
          expect(resetSeconds).toBeGreaterThanOrEqual(1);
          expect(resetSeconds).toBeLessThanOrEqual(windowSeconds);
          expect(headers['RateLimit-Reset']).toBe(String(resetSeconds));
          expect(headers['Retry-After']).toBe(allowed ? undefined : String(resetSeconds));
        },
      ),
    );
  });
});
