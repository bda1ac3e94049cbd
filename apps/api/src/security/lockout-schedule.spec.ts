import * as fc from 'fast-check';
import { lockDurationSeconds, lockSchedule } from './lockout-schedule';

const MINUTE = 60;
const HOUR = 60 * MINUTE;

describe('lockDurationSeconds', () => {
  it('locks for 15 minutes first, doubling on each repeat up to 24 hours', () => {
    const levels = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map((level) => lockDurationSeconds(level, 15 * MINUTE, 24 * HOUR));
    expect(levels).toEqual([
      15 * MINUTE,
      30 * MINUTE,
      HOUR,
      2 * HOUR,
      4 * HOUR,
      8 * HOUR,
      16 * HOUR,
      24 * HOUR,
      24 * HOUR,
      24 * HOUR,
    ]);
  });

  it('treats levels below 1 as the first lock and survives huge levels', () => {
    expect(lockDurationSeconds(0, 900, 86_400)).toBe(900);
    expect(lockDurationSeconds(-3, 900, 86_400)).toBe(900);
    expect(lockDurationSeconds(5000, 900, 86_400)).toBe(86_400);
  });

  it('never exceeds the cap and never shrinks as the level grows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 200 }),
        (base, extra, level) => {
          const max = base + extra;
          const now = lockDurationSeconds(level, base, max);
          expect(now).toBeGreaterThanOrEqual(base);
          expect(now).toBeLessThanOrEqual(max);
          expect(lockDurationSeconds(level + 1, base, max)).toBeGreaterThanOrEqual(now);
        },
      ),
    );
  });
});

describe('lockSchedule', () => {
  it('lists each distinct duration and ends at the cap', () => {
    expect(lockSchedule(900, 86_400)).toEqual([900, 1800, 3600, 7200, 14_400, 28_800, 57_600, 86_400]);
    expect(lockSchedule(1, 2)).toEqual([1, 2]);
    expect(lockSchedule(5, 5)).toEqual([5]);
  });

  it('agrees with lockDurationSeconds at every level', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 100_000 }), (base, extra) => {
        const schedule = lockSchedule(base, base + extra);
        schedule.forEach((seconds, index) => expect(seconds).toBe(lockDurationSeconds(index + 1, base, base + extra)));
        expect(schedule.at(-1)).toBe(base + extra);
      }),
    );
  });
});
