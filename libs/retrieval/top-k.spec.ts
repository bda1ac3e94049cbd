import fc from 'fast-check';
import { TopK } from './top-k';

describe('TopK', () => {
  it('keeps the k best, best first, ties by lower id', () => {
    const top = new TopK(3);
    [0.1, 0.9, 0.5, 0.9, 0.2, 0.7].forEach((score, id) => top.push(id, score));
    expect(top.sorted()).toEqual([
      { id: 1, score: 0.9 },
      { id: 3, score: 0.9 },
      { id: 5, score: 0.7 },
    ]);
    expect(top.threshold).toBe(0.7);
  });

  it('holds nothing when k is 0 and ignores NaN', () => {
    const none = new TopK(0);
    none.push(1, 1);
    expect(none.sorted()).toEqual([]);
    const top = new TopK(2);
    top.push(1, Number.NaN);
    expect(top.sorted()).toEqual([]);
    expect(top.threshold).toBe(-Infinity);
  });

  it('property: equals sorting everything and taking the first k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 30 }),
        (scores, k) => {
          const top = new TopK(k);
          scores.forEach((score, id) => top.push(id, score));
          const expected = scores
            .map((score, id) => ({ id, score }))
            .sort((a, b) => b.score - a.score || a.id - b.id)
            .slice(0, k);
          expect(top.sorted()).toEqual(expected);
        },
      ),
    );
  });
});
