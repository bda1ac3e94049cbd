import { DotKernel, KERNEL_BLOCK_ROWS } from './simd-dot-kernel';
import { TopK } from './top-k';
import { dotRow, scanKernelRows, scanRows } from './vector-scan';

function filled(kernel: DotKernel, seed: number): void {
  let state = seed;
  for (let i = 0; i < kernel.matrix.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    kernel.matrix[i] = state / 2 ** 32 - 0.5;
  }
}

describe('DotKernel (WebAssembly SIMD)', () => {
  const dims = 12;
  const rows = KERNEL_BLOCK_ROWS + 37; // more than one block, and a partial one
  const kernel = DotKernel.create(rows, dims)!;
  filled(kernel, 3);
  const query = Float32Array.from({ length: dims }, (_, d) => Math.sin(d + 1));

  it('is available on this Node.js', () => {
    expect(kernel).not.toBeNull();
    expect(kernel.matrix).toHaveLength(rows * dims);
  });

  it('scores each row as its dot product with the query', () => {
    kernel.setQuery(query);
    const scores = kernel.score(5, 3);
    for (let i = 0; i < 3; i++) expect(scores[i]).toBeCloseTo(dotRow(kernel.matrix, dims, 5 + i, query), 5);
    const last = kernel.score(rows - 1, 1);
    expect(last[0]).toBeCloseTo(dotRow(kernel.matrix, dims, rows - 1, query), 5);
  });

  it('finds the same best rows as the JavaScript scan, with and without a file filter', () => {
    kernel.setQuery(query);
    const rowFiles = Uint32Array.from({ length: rows }, (_, row) => (row * 7) % 5);
    const filter = { rowFiles, allowedFiles: new Uint8Array([1, 0, 1, 1, 0]) };
    for (const [start, end, only] of [
      [0, rows, undefined],
      [3, rows - 2, undefined],
      [0, rows, filter],
      [100, 3000, filter],
    ] as const) {
      const simd = new TopK(10);
      const js = new TopK(10);
      scanKernelRows(kernel, start, end, simd, only);
      scanRows(kernel.matrix, dims, query, start, end, js, only);
      expect(simd.sorted().map((hit) => hit.id)).toEqual(js.sorted().map((hit) => hit.id));
      if (only) expect(simd.sorted().every((hit) => only.allowedFiles[rowFiles[hit.id]!] === 1)).toBe(true);
    }
  });

  it('declines what it cannot score: dimensions not a multiple of four, or more than 4 GiB', () => {
    expect(DotKernel.create(10, 6)).toBeNull();
    expect(DotKernel.create(2 ** 30, 4)).toBeNull();
  });
});
