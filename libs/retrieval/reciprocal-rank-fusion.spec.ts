import fc from 'fast-check';
import { fuseByReciprocalRank } from './reciprocal-rank-fusion';

const id = (s: string) => s;
/** Lists of distinct short ids, as rankers return them. */
const rankedLists = fc.array(fc.uniqueArray(fc.constantFrom(...'abcdefghijklmnop'.split('')), { maxLength: 12 }), {
  minLength: 1,
  maxLength: 4,
});

/** The same lists fused in their order and reversed. */
function fuseBothWays(lists: string[][]) {
  const fuse = (ordered: string[][]) =>
    fuseByReciprocalRank(
      ordered.map((items) => ({ items })),
      id,
    );
  return { forward: fuse(lists), backward: fuse([...lists].reverse()) };
}

describe('fuseByReciprocalRank', () => {
  it('scores by 1/(k + rank) summed over lists and reports each rank', () => {
    const fused = fuseByReciprocalRank([{ items: ['a', 'b', 'c'] }, { items: ['b', 'd'] }], id, 60);
    expect(fused.map((f) => f.item)).toEqual(['b', 'a', 'd', 'c']);
    expect(fused[0]).toEqual({ item: 'b', score: 1 / 62 + 1 / 61, ranks: [2, 1] });
    expect(fused[1]!.ranks).toEqual([1, undefined]);
    expect(fused[2]!.ranks).toEqual([undefined, 2]);
  });

  it('applies weights per list', () => {
    const fused = fuseByReciprocalRank([{ items: ['a'] }, { items: ['b'], weight: 2 }], id);
    expect(fused.map((f) => f.item)).toEqual(['b', 'a']);
    expect(fused[0]!.score).toBeCloseTo(2 / 61);
  });

  it('keeps the first-seen object and counts a repeat within one list once', () => {
    const fused = fuseByReciprocalRank(
      [
        {
          items: [
            { id: 'x', from: 'lexical' },
            { id: 'x', from: 'again' },
          ],
        },
        { items: [{ id: 'x', from: 'vector' }] },
      ],
      (item) => item.id,
    );
    expect(fused).toHaveLength(1);
    expect(fused[0]!.item.from).toBe('lexical');
    expect(fused[0]!.ranks).toEqual([1, 1]);
    expect(fused[0]!.score).toBeCloseTo(2 / 61);
  });

  it('returns nothing for empty lists', () => {
    expect(fuseByReciprocalRank([], id)).toEqual([]);
    expect(fuseByReciprocalRank([{ items: [] }, { items: [] }], id)).toEqual([]);
  });

  it('property: an item ranked first in every list wins', () => {
    fc.assert(
      fc.property(rankedLists, fc.integer({ min: 1, max: 100 }), (lists, k) => {
        const withWinner = lists.map((items) => ({ items: ['WIN', ...items] }));
        expect(fuseByReciprocalRank(withWinner, id, k)[0]!.item).toBe('WIN');
      }),
    );
  });

  it('property: every input item appears once, scores are non-increasing', () => {
    fc.assert(
      fc.property(rankedLists, (lists) => {
        const fused = fuseByReciprocalRank(
          lists.map((items) => ({ items })),
          id,
        );
        expect(fused.map((f) => f.item).sort()).toEqual([...new Set(lists.flat())].sort());
        for (let i = 1; i < fused.length; i++) expect(fused[i - 1]!.score).toBeGreaterThanOrEqual(fused[i]!.score);
      }),
    );
  });

  it('scores the same ranks met in another list order the same, to the last bit', () => {
    // fast-check's counterexample from CI: c ranks 4, 1, 7 and i ranks 1, 7, 4; summed in list order, the two scores
    // differed in the last bit and the order of c and i flipped when the lists were reversed.
    const lists = [
      ['i', 'a', 'f', 'c'],
      ['c', 'a', 'k', 'n', 'g', 'o', 'i'],
      ['j', 'a', 'f', 'i', 'o', 'm', 'c'],
    ];
    const { forward, backward } = fuseBothWays(lists);
    const score = (fused: typeof forward, item: string) => fused.find((f) => f.item === item)!.score;
    expect(score(forward, 'c')).toBe(score(forward, 'i'));
    expect(score(backward, 'c')).toBe(score(forward, 'c'));
    expect(backward.map((f) => f.item)).toEqual(forward.map((f) => f.item));
  });

  it('property: ties are deterministic, whatever order the lists come in', () => {
    fc.assert(
      fc.property(rankedLists, (lists) => {
        const { forward, backward } = fuseBothWays(lists);
        expect(backward.map((f) => f.item)).toEqual(forward.map((f) => f.item));
      }),
    );
  });
});
