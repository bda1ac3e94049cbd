export interface RankedList<T> {
  /** Best first. */
  items: T[];
  /** Multiplies this list's contributions (default 1). */
  weight?: number;
}

export interface FusedItem<T> {
  item: T;
  score: number;
  /** The item's 1-based rank in each input list, `undefined` where it is absent. */
  ranks: (number | undefined)[];
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): an item scores `Σ weight / (k + rank)` over the lists it appears
 * in, so agreement between rankers beats a high rank in one, and raw scores on different scales never mix. The item
 * kept is the first seen (earliest list); a repeat within one list counts only at its best rank. Ties are broken by
 * the best rank in any list, then by key, so the order is deterministic. An item's contributions are summed smallest
 * first: floating-point addition is not associative, so summing in list order could score the same ranks, met in
 * another list order, a last bit apart and break the tie differently.
 */
export function fuseByReciprocalRank<T>(lists: RankedList<T>[], key: (item: T) => string, k = 60): FusedItem<T>[] {
  const fused = new Map<
    string,
    { item: T; key: string; score: number; parts: number[]; ranks: (number | undefined)[]; best: number }
  >();
  lists.forEach((list, listIndex) => {
    const weight = list.weight ?? 1;
    list.items.forEach((item, position) => {
      const id = key(item);
      const rank = position + 1;
      let entry = fused.get(id);
      if (!entry) {
        entry = {
          item,
          key: id,
          score: 0,
          parts: [],
          ranks: new Array<number | undefined>(lists.length).fill(undefined),
          best: rank,
        };
        fused.set(id, entry);
      }
      if (entry.ranks[listIndex] !== undefined) return;
      entry.ranks[listIndex] = rank;
      entry.parts.push(weight / (k + rank));
      entry.best = Math.min(entry.best, rank);
    });
  });
  for (const entry of fused.values()) entry.score = sumSmallestFirst(entry.parts);
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.best - b.best || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item, score, ranks }) => ({ item, score, ranks }));
}

function sumSmallestFirst(parts: number[]): number {
  if (parts.length === 1) return parts[0]!;
  return [...parts].sort((a, b) => a - b).reduce((sum, part) => sum + part, 0);
}
