import { type IngestRound, quartetCosts } from './paired-ingest';

/**
 * Rounds as `alternateIngestRounds` runs them: A B B A A B B A …, where the round at position `t` of the whole run
 * takes `msAt(t)` before the side's own factor.
 */
function run(rounds: number, factors: { a: number; b: number }, msAt: (t: number) => number) {
  const a: IngestRound[] = [];
  const b: IngestRound[] = [];
  let t = 0;
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      const ms = msAt(t++) * factors[side];
      (side === 'a' ? a : b).push({ bytes: 1_000_000, ms, clientMs: ms, cpuS: ms / 1000, byProcess: {} });
    }
  }
  return { a, b };
}

describe('quartetCosts', () => {
  it('finds no cost between equal sides however steeply the rounds slow down over the run', () => {
    const { a, b } = run(8, { a: 1, b: 1 }, (t) => 1000 + 250 * t);
    const costs = quartetCosts(a, b);
    expect(costs.mbPerSPct).toHaveLength(4);
    for (const pct of [...costs.mbPerSPct, ...costs.cpuPerMbPct]) expect(pct).toBeCloseTo(0, 10);
  });

  it('where comparing each round with the next one blames the growth on the side that went second', () => {
    const { a, b } = run(8, { a: 1, b: 1 }, (t) => 1000 + 250 * t);
    const roundByRound = a.map((round, i) => ((b[i]!.ms - round.ms) / b[i]!.ms) * 100);
    expect(Math.max(...roundByRound.map(Math.abs))).toBeGreaterThan(5);
  });

  it('measures a side that is 10 % slower as costing 10 % more CPU and 1/1.1 of the throughput, trend or not', () => {
    const { a, b } = run(6, { a: 1, b: 1.1 }, (t) => 2000 + 100 * t);
    const costs = quartetCosts(a, b);
    for (const pct of costs.mbPerSPct) expect(pct).toBeCloseTo((1 - 1 / 1.1) * 100, 8);
    for (const pct of costs.cpuPerMbPct) expect(pct).toBeCloseTo(10, 8);
  });

  it('leaves out an odd last round and anything one side has no partner for', () => {
    const { a, b } = run(5, { a: 1, b: 1 }, () => 1000);
    expect(quartetCosts(a, b).mbPerSPct).toHaveLength(2);
    expect(quartetCosts(a.slice(0, 3), b).mbPerSPct).toHaveLength(1);
  });
});
