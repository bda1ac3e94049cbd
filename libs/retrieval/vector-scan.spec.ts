import { TopK } from './top-k';
import { dotRow, scanRows } from './vector-scan';

describe('scanRows', () => {
  // Three rows of 5 dimensions (not a multiple of 4, so the remainder loop runs too).
  const matrix = new Float32Array([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1]);
  const query = new Float32Array([1, 1, 0, 0, 1]);

  it('scores every row by dot product and keeps the best', () => {
    const top = new TopK(2);
    scanRows(matrix, 5, query, 0, 3, top);
    expect(top.sorted()).toEqual([
      { id: 2, score: 3 },
      { id: 0, score: 2 },
    ]);
    expect(dotRow(matrix, 5, 1, query)).toBe(1);
  });

  it('skips rows whose file is not allowed', () => {
    const top = new TopK(3);
    scanRows(matrix, 5, query, 0, 3, top, {
      rowFiles: new Uint32Array([0, 1, 1]),
      allowedFiles: new Uint8Array([1, 0]),
    });
    expect(top.sorted()).toEqual([{ id: 0, score: 2 }]);
  });
});

describe('scanRows on many rows', () => {
  it('matches row-by-row dot products for odd counts, ranges and filters', () => {
    const dims = 7;
    const rows = 41;
    const matrix = Float32Array.from({ length: rows * dims }, (_, i) => Math.sin(i * 1.7));
    const query = Float32Array.from({ length: dims }, (_, i) => Math.cos(i));
    const rowFiles = Uint32Array.from({ length: rows }, (_, row) => row % 3);
    const allowedFiles = new Uint8Array([1, 0, 1]);
    for (const [start, end] of [
      [0, rows],
      [3, 4],
      [5, 30],
    ] as const) {
      const top = new TopK(rows);
      scanRows(matrix, dims, query, start, end, top, { rowFiles, allowedFiles });
      const expected: { id: number; score: number }[] = [];
      for (let row = start; row < end; row++) {
        if (allowedFiles[rowFiles[row]!]) expected.push({ id: row, score: dotRow(matrix, dims, row, query) });
      }
      expected.sort((a, b) => b.score - a.score || a.id - b.id);
      const got = top.sorted();
      expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
      got.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 10));
    }
  });
});
