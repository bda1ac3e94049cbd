import { type DotKernel, KERNEL_BLOCK_ROWS } from './simd-dot-kernel';
import type { TopK } from './top-k';

/** Rows of a flat row-major matrix that a scan may score: a file ordinal per row and a 0/1 flag per ordinal. */
export interface RowFilter {
  rowFiles: Uint32Array;
  allowedFiles: Uint8Array;
}

/**
 * Dot products of `query` with rows `[start, end)` of `matrix` (`dims` floats a row), offered to `top` by row
 * number. The hot loop of vector search: one pass over contiguous memory, four independent accumulators so the
 * multiply-adds pipeline, two rows per pass over the query, and the heap is touched only by rows that beat its
 * current threshold.
 */
export function scanRows(
  matrix: Float32Array,
  dims: number,
  query: Float32Array,
  start: number,
  end: number,
  top: TopK,
  filter?: RowFilter,
): void {
  const rowFiles = filter?.rowFiles;
  const allowed = filter?.allowedFiles;
  let threshold = top.threshold;
  let row = start;
  // Two rows at a time: each query value is loaded once for both, which saves a quarter of the memory reads.
  for (; row + 1 < end; row += 2) {
    const first = allowed === undefined || allowed[rowFiles![row]!] === 1;
    const second = allowed === undefined || allowed[rowFiles![row + 1]!] === 1;
    if (first && second) {
      const base = row * dims;
      const pair = dotPair(matrix, base, base + dims, dims, query);
      if (pair.a > threshold) {
        top.push(row, pair.a);
        threshold = top.threshold;
      }
      if (pair.b > threshold) {
        top.push(row + 1, pair.b);
        threshold = top.threshold;
      }
      continue;
    }
    for (const candidate of first ? [row] : second ? [row + 1] : []) {
      const score = dotRow(matrix, dims, candidate, query);
      if (score > threshold) {
        top.push(candidate, score);
        threshold = top.threshold;
      }
    }
  }
  if (row < end && (allowed === undefined || allowed[rowFiles![row]!] === 1)) {
    const score = dotRow(matrix, dims, row, query);
    if (score > threshold) top.push(row, score);
  }
}

/**
 * `scanRows` over the kernel's own matrix, its dot products in WebAssembly SIMD: the query must have been set with
 * `kernel.setQuery`. A filter splits the range into runs of allowed rows, so rows of other files cost no products.
 */
export function scanKernelRows(kernel: DotKernel, start: number, end: number, top: TopK, filter?: RowFilter): void {
  const offer = (from: number, to: number) => {
    for (let block = from; block < to; block += KERNEL_BLOCK_ROWS) {
      const count = Math.min(KERNEL_BLOCK_ROWS, to - block);
      const scores = kernel.score(block, count);
      let threshold = top.threshold;
      for (let i = 0; i < count; i++) {
        if (scores[i]! > threshold) {
          top.push(block + i, scores[i]!);
          threshold = top.threshold;
        }
      }
    }
  };
  if (!filter) {
    if (end > start) offer(start, end);
    return;
  }
  const { rowFiles, allowedFiles } = filter;
  let run = -1;
  for (let row = start; row < end; row++) {
    const allowed = allowedFiles[rowFiles[row]!] === 1;
    if (allowed && run < 0) run = row;
    if (!allowed && run >= 0) {
      offer(run, row);
      run = -1;
    }
  }
  if (run >= 0) offer(run, end);
}

const pairResult = { a: 0, b: 0 };

/** Dot products of two rows (at float offsets `a` and `b`) with `query`, four accumulators each. */
function dotPair(matrix: Float32Array, a: number, b: number, dims: number, query: Float32Array): typeof pairResult {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let d = 0;
  const unrolled = dims - (dims % 4);
  for (; d < unrolled; d += 4) {
    const q0 = query[d]!;
    const q1 = query[d + 1]!;
    const q2 = query[d + 2]!;
    const q3 = query[d + 3]!;
    a0 += matrix[a + d]! * q0;
    a1 += matrix[a + d + 1]! * q1;
    a2 += matrix[a + d + 2]! * q2;
    a3 += matrix[a + d + 3]! * q3;
    b0 += matrix[b + d]! * q0;
    b1 += matrix[b + d + 1]! * q1;
    b2 += matrix[b + d + 2]! * q2;
    b3 += matrix[b + d + 3]! * q3;
  }
  for (; d < dims; d++) {
    a0 += matrix[a + d]! * query[d]!;
    b0 += matrix[b + d]! * query[d]!;
  }
  pairResult.a = a0 + a1 + a2 + a3;
  pairResult.b = b0 + b1 + b2 + b3;
  return pairResult;
}

/** The dot product of row `row` of `matrix` with `query`. */
export function dotRow(matrix: Float32Array, dims: number, row: number, query: Float32Array, queryOffset = 0): number {
  const base = row * dims;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  const unrolled = dims - (dims % 4);
  for (; d < unrolled; d += 4) {
    const i = base + d;
    const j = queryOffset + d;
    s0 += matrix[i]! * query[j]!;
    s1 += matrix[i + 1]! * query[j + 1]!;
    s2 += matrix[i + 2]! * query[j + 2]!;
    s3 += matrix[i + 3]! * query[j + 3]!;
  }
  for (; d < dims; d++) s0 += matrix[base + d]! * query[queryOffset + d]!;
  return s0 + s1 + s2 + s3;
}
