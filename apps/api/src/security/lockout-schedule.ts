/**
 * How long the n-th consecutive lock of an account lasts: `baseSeconds` for the first, doubling with each repeat,
 * never more than `maxSeconds`. Levels below 1 count as 1.
 */
export function lockDurationSeconds(level: number, baseSeconds: number, maxSeconds: number): number {
  const doublings = Math.max(0, Math.floor(level) - 1);
  // 2 ** 1100 is Infinity, which the cap absorbs; no overflow to worry about.
  return Math.min(baseSeconds * 2 ** doublings, maxSeconds);
}

/**
 * Every distinct lock duration, level 1 first, ending with the first level that reaches the cap; any later level
 * lasts as long as the last entry. The Redis script indexes this list, so the rule lives here only.
 */
export function lockSchedule(baseSeconds: number, maxSeconds: number): number[] {
  const schedule: number[] = [];
  for (let level = 1; ; level += 1) {
    const seconds = lockDurationSeconds(level, baseSeconds, maxSeconds);
    schedule.push(seconds);
    if (seconds >= maxSeconds) return schedule;
  }
}
