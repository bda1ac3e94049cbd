import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { l2NormalizeRange } from './vector-codec';
import { dotRow } from './vector-scan';
import { seededRandom } from './seeded-random';

/**
 * A coarse inverted-file partition of a matrix of unit vectors: `nlist` centroids found by spherical k-means on a
 * sample, every row assigned to its nearest centroid, and rows reordered so each list is one contiguous range.
 * A search scores the centroids, then scans only the rows of the `nprobe` nearest lists.
 */
export interface IvfPartition {
  nlist: number;
  /** `nlist × dims`, unit length. */
  centroids: Float32Array;
  /** List `l` holds rows `[offsets[l], offsets[l + 1])` of the reordered matrix. */
  offsets: Uint32Array;
}

export interface IvfBuildOptions {
  nlist: number;
  /** Rows the centroids are trained on (default `40 × nlist`, at most the row count). */
  sampleSize?: number;
  iterations?: number;
  seed?: number;
}

export interface IvfBuild {
  partition: IvfPartition;
  /** `order[i]` is the original row now at position `i`. */
  order: Uint32Array;
}

/** Rows scored between two yields to the event loop: a build takes seconds, and the worker must keep heartbeating. */
const ROWS_PER_SLICE = 2000;

export async function buildIvfPartition(
  matrix: Float32Array,
  dims: number,
  count: number,
  options: IvfBuildOptions,
): Promise<IvfBuild> {
  const nlist = Math.max(1, Math.min(options.nlist, count));
  const random = seededRandom(options.seed ?? 0x9e3779b9);
  const sample = sampleRows(count, Math.min(count, Math.max(nlist, options.sampleSize ?? 40 * nlist)), random);
  const centroids = new Float32Array(nlist * dims);
  for (let c = 0; c < nlist; c++) centroids.set(rowOf(matrix, dims, sample[c]!), c * dims);

  const sums = new Float64Array(nlist * dims);
  const sizes = new Uint32Array(nlist);
  for (let iteration = 0; iteration < (options.iterations ?? 8); iteration++) {
    sums.fill(0);
    sizes.fill(0);
    for (const [index, row] of sample.entries()) {
      if (index % ROWS_PER_SLICE === 0) await yieldToEventLoop();
      const c = nearestCentroid(centroids, nlist, dims, matrix, row);
      sizes[c]!++;
      const base = row * dims;
      const target = c * dims;
      for (let d = 0; d < dims; d++) sums[target + d]! += matrix[base + d]!;
    }
    for (let c = 0; c < nlist; c++) {
      if (sizes[c] === 0) {
        // An empty list takes a random sample row, so no centroid is wasted.
        centroids.set(rowOf(matrix, dims, sample[Math.floor(random() * sample.length)]!), c * dims);
        continue;
      }
      for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d]!;
      l2NormalizeRange(centroids, c * dims, dims);
    }
  }

  const assignment = new Uint32Array(count);
  const listSizes = new Uint32Array(nlist);
  for (let row = 0; row < count; row++) {
    if (row % ROWS_PER_SLICE === 0) await yieldToEventLoop();
    const c = nearestCentroid(centroids, nlist, dims, matrix, row);
    assignment[row] = c;
    listSizes[c]!++;
  }
  const offsets = new Uint32Array(nlist + 1);
  for (let c = 0; c < nlist; c++) offsets[c + 1] = offsets[c]! + listSizes[c]!;
  const cursor = offsets.slice(0, nlist);
  const order = new Uint32Array(count);
  for (let row = 0; row < count; row++) order[cursor[assignment[row]!]!++] = row;
  return { partition: { nlist, centroids, offsets }, order };
}

function nearestCentroid(
  centroids: Float32Array,
  nlist: number,
  dims: number,
  matrix: Float32Array,
  row: number,
): number {
  let best = 0;
  let bestScore = -Infinity;
  const offset = row * dims;
  for (let c = 0; c < nlist; c++) {
    const score = dotRow(centroids, dims, c, matrix, offset);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

function rowOf(matrix: Float32Array, dims: number, row: number): Float32Array {
  return matrix.subarray(row * dims, (row + 1) * dims);
}

/** `size` distinct row numbers from `[0, count)` (partial Fisher–Yates). */
function sampleRows(count: number, size: number, random: () => number): Uint32Array {
  const rows = new Uint32Array(count);
  for (let i = 0; i < count; i++) rows[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (count - i));
    const swap = rows[i]!;
    rows[i] = rows[j]!;
    rows[j] = swap;
  }
  return rows.slice(0, size);
}
