import { buildIvfPartition } from './ivf-partition';
import { TopK } from './top-k';
import { l2NormalizeRange } from './vector-codec';
import { scanRows } from './vector-scan';

/** Unit vectors around `clusters` random centres, as embeddings of documents on a few topics look. */
function clustered(rows: number, dims: number, clusters: number): Float32Array {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const centres = Float32Array.from({ length: clusters * dims }, random);
  const matrix = new Float32Array(rows * dims);
  for (let row = 0; row < rows; row++) {
    const centre = row % clusters;
    for (let d = 0; d < dims; d++) matrix[row * dims + d] = centres[centre * dims + d]! + 0.6 * random();
    l2NormalizeRange(matrix, row * dims, dims);
  }
  return matrix;
}

describe('buildIvfPartition', () => {
  const dims = 32;
  const rows = 4000;
  const matrix = clustered(rows, dims, 20);

  it('assigns every row to exactly one contiguous list', async () => {
    const { partition, order } = await buildIvfPartition(matrix, dims, rows, { nlist: 16 });
    expect(partition.offsets[0]).toBe(0);
    expect(partition.offsets[partition.nlist]).toBe(rows);
    expect(new Set(order).size).toBe(rows);
  });

  it.each([
    ['every centroid', Infinity],
    ['groups of centroids', 0],
  ])(
    'finds most of the exact top-10 when probing a quarter of the lists (rows assigned against %s)',
    async (_, routeAbove) => {
      const { partition, order } = await buildIvfPartition(matrix, dims, rows, { nlist: 16, routeAbove });
      const sorted = new Float32Array(matrix.length);
      order.forEach((from, to) => sorted.set(matrix.subarray(from * dims, (from + 1) * dims), to * dims));
      let found = 0;
      let asked = 0;
      for (let q = 0; q < 50; q++) {
        const query = matrix.slice(q * 37 * dims, (q * 37 + 1) * dims);
        const exact = new TopK(10);
        scanRows(sorted, dims, query, 0, rows, exact);
        const lists = new TopK(4);
        scanRows(partition.centroids, dims, query, 0, partition.nlist, lists);
        const approximate = new TopK(10);
        for (const { id } of lists.sorted()) {
          scanRows(sorted, dims, query, partition.offsets[id]!, partition.offsets[id + 1]!, approximate);
        }
        const got = new Set(approximate.sorted().map((hit) => hit.id));
        found += exact.sorted().filter((hit) => got.has(hit.id)).length;
        asked += 10;
      }
      expect(found / asked).toBeGreaterThan(0.9);
    },
  );

  it('routes nearly every row to its nearest centroid through groups of centroids', async () => {
    const { partition, order } = await buildIvfPartition(matrix, dims, rows, { nlist: 64, routeAbove: 0 });
    let nearest = 0;
    for (let list = 0; list < partition.nlist; list++) {
      for (let i = partition.offsets[list]!; i < partition.offsets[list + 1]!; i++) {
        const row = matrix.subarray(order[i]! * dims, (order[i]! + 1) * dims);
        const best = new TopK(1);
        scanRows(partition.centroids, dims, row, 0, partition.nlist, best);
        if (best.sorted()[0]!.id === list) nearest++;
      }
    }
    expect(partition.offsets[partition.nlist]).toBe(rows);
    expect(new Set(order).size).toBe(rows);
    expect(nearest / rows).toBeGreaterThan(0.95);
  });
});
