import { median, medianConfidenceInterval } from './stats';

describe('medianConfidenceInterval', () => {
  it('takes the order statistics of the sign test: the 4th smallest and largest of 16 at 95 %', () => {
    const values = Array.from({ length: 16 }, (_, i) => 16 - i);
    const interval = medianConfidenceInterval(values);
    expect(interval).toEqual({ low: 4, high: 13, confidence: expect.closeTo(1 - 2 * (697 / 65536), 10) as number });
  });

  it('needs six samples for 95 %, and gives the extremes there', () => {
    expect(medianConfidenceInterval([1, 2, 3, 4, 5])).toBeUndefined();
    expect(medianConfidenceInterval([6, 1, 5, 2, 4, 3])).toEqual({ low: 1, high: 6, confidence: 1 - 2 / 64 });
    expect(medianConfidenceInterval([])).toBeUndefined();
  });

  it('widens for a higher confidence and always holds the sample median', () => {
    const values = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 10);
    const at90 = medianConfidenceInterval(values, 0.9)!;
    const at99 = medianConfidenceInterval(values, 0.99)!;
    expect(at99.low).toBeLessThan(at90.low);
    expect(at99.high).toBeGreaterThan(at90.high);
    expect(at90.confidence).toBeGreaterThanOrEqual(0.9);
    expect(at99.confidence).toBeGreaterThanOrEqual(0.99);
    for (const interval of [at90, at99]) {
      expect(interval.low).toBeLessThanOrEqual(median(values));
      expect(interval.high).toBeGreaterThanOrEqual(median(values));
    }
  });

  it('covers the true median as often as it claims, over many samples of a skewed distribution', () => {
    // Exponential with rate 1: its median is ln 2. A fixed linear congruential generator keeps the test repeatable.
    let state = 12345;
    const uniform = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return (state + 0.5) / 2147483648;
    };
    const trials = 4000;
    let covered = 0;
    let claimed = 0;
    for (let trial = 0; trial < trials; trial++) {
      const sample = Array.from({ length: 16 }, () => -Math.log(uniform()));
      const interval = medianConfidenceInterval(sample)!;
      claimed = interval.confidence;
      if (interval.low <= Math.LN2 && Math.LN2 <= interval.high) covered++;
    }
    // Claimed 97.9 %; four standard errors (~0.9 %) of slack, and far from what a wrong k would give (92 % or 99.6 %).
    expect(covered / trials).toBeGreaterThan(claimed - 0.01);
    expect(covered / trials).toBeLessThan(claimed + 0.01);
  });
});
