import type { ReadStream } from 'node:fs';
import type { DataSource } from 'typeorm';
import { FileRepository } from '../db/repositories/file.repository';
import type { IndexVersions } from './index-versions';
import { buildIvfPartition, defaultIvfLists, defaultIvfProbes, type IvfPartition, permuteRows } from './ivf-partition';
import { TopK } from './top-k';
import { decodeVectorInto, l2Normalize, l2NormalizeRange } from './vector-codec';
import { DotKernel } from './simd-dot-kernel';
import { type RowFilter, scanKernelRows, scanRows } from './vector-scan';

export interface VectorHit {
  chunkId: string;
  fileId: string;
  /** Cosine similarity. */
  score: number;
}

export interface VectorSearchOptions {
  /** Only these files; an empty list matches nothing. */
  fileIds?: string[];
  limit: number;
  /** Scan every row even when the index has an IVF partition (to measure its recall). */
  exact?: boolean;
}

export interface VectorIndexOptions {
  /**
   * Bytes of matrices kept across users before the least recently used is dropped (default 512 MiB; the worker's
   * `RETRIEVAL_VECTOR_CACHE_MB`). The user just loaded is kept even when it alone is over.
   */
  maxBytes?: number;
  /** Users with at least this many vectors get an IVF partition (default 50 000); below, search is exact. */
  ivfMinRows?: number;
  /**
   * Lists per IVF partition for `rows` vectors (default `√rows / 2`, at most 256: every row of a build is routed to
   * its list, so more lists make a million-row build minutes long; beyond ~260k rows the lists grow instead).
   */
  ivfLists?: (rows: number) => number;
  /**
   * When a user's chunks changed and an older snapshot is cached, search that one while the new one loads (default
   * true), instead of waiting seconds for a large reload. Safe: which files are ready is read per search, so deleted
   * or unready files never show; vectors of just-added chunks appear when the reload lands (lexical finds them
   * meanwhile). `warm()` always waits for the current version.
   */
  staleWhileReloading?: boolean;
  /**
   * Lists an IVF search scans (default a quarter of them, at least 4). A search filtered to files holding no more rows
   * than those lists would (a narrow `fileIds`) scans every row of those files instead: exact, and no more work.
   */
  ivfProbes?: (lists: number) => number;
  /** Users with at least this many vectors are scored in WebAssembly SIMD when it is available (default 2048). */
  simdMinRows?: number;
  /**
   * How long a search waits for a user's index when none of it is cached yet (default 3 s). A million vectors take
   * ~60 s to load and partition: the search then fails with `VectorIndexLoadingError` (hybrid search answers from
   * FULLTEXT and says why) while the load goes on, and later searches use it. `warm()` always waits.
   */
  coldWaitMs?: number;
}

/** The user's index is still loading (a cold start on a large index): retry later, or search lexically meanwhile. */
export class VectorIndexLoadingError extends Error {
  override readonly name = 'VectorIndexLoadingError';
  readonly code = 'vector_index_loading';

  constructor(waitedMs: number) {
    super(`The vector index is still loading after ${waitedMs} ms`);
  }
}

export interface VectorIndexStats {
  rows: number;
  dims: number;
  bytes: number;
  version: number;
  loadMs: number;
  ivfBuildMs: number;
  ivfLists: number;
  /** Whether searches score rows in WebAssembly SIMD (otherwise in JavaScript). */
  simd: boolean;
}

/** One user's vectors: a contiguous matrix of unit rows and, per row, the chunk and (ordinal of the) file. */
interface UserVectors {
  version: number;
  dims: number;
  rows: number;
  matrix: Float32Array;
  /** Scores `matrix` in WebAssembly SIMD when it lives in the kernel's memory (absent: the JavaScript scan). */
  kernel?: DotKernel;
  chunkIds: string[];
  fileIds: string[];
  rowFiles: Uint32Array;
  /** Rows per file ordinal. */
  fileRows: Uint32Array;
  ivf?: IvfPartition;
  bytes: number;
  stats: VectorIndexStats;
}

interface VectorRow {
  id: string;
  file_id: string;
  embedding: Buffer;
}

/**
 * An in-process, per-user vector index for the worker. A user's embeddings are streamed from `file_chunk_vectors`
 * into one matrix of unit vectors, kept in an LRU bounded by total bytes and reloaded when the user's `IndexVersions`
 * counter moved (one Redis GET per search; the old snapshot serves while the new one loads). Search is a brute-force
 * dot product with a bounded top-k, in WebAssembly SIMD for users with a few thousand vectors or more (`DotKernel`:
 * several times JavaScript's speed, so a million rows fit the latency budget); large users also get a coarse IVF
 * partition so a search scans only the nearest lists. Which files are `ready` is read per search, so a file that
 * becomes ready (or is deleted) counts at once without a reload.
 */
export class VectorIndex {
  private readonly cache = new Map<string, UserVectors>();
  private readonly loading = new Map<string, Promise<UserVectors>>();
  private cachedBytes = 0;
  /** Order in which loads started, and the latest one each user's cached snapshot came from. */
  private loadSequence = 0;
  private readonly rememberedSequence = new Map<string, number>();
  private readonly maxBytes: number;
  private readonly ivfMinRows: number;
  private readonly ivfLists: (rows: number) => number;
  private readonly ivfProbes: (lists: number) => number;
  private readonly staleWhileReloading: boolean;
  private readonly simdMinRows: number;
  private readonly coldWaitMs: number;

  constructor(
    private readonly db: DataSource,
    private readonly versions: IndexVersions,
    options: VectorIndexOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
    this.staleWhileReloading = options.staleWhileReloading ?? true;
    this.ivfMinRows = options.ivfMinRows ?? 50_000;
    this.ivfLists = options.ivfLists ?? defaultIvfLists;
    this.ivfProbes = options.ivfProbes ?? defaultIvfProbes;
    this.simdMinRows = options.simdMinRows ?? 2048;
    this.coldWaitMs = options.coldWaitMs ?? 3000;
  }

  async search(userId: string, query: Float32Array, options: VectorSearchOptions): Promise<VectorHit[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0 || options.fileIds?.length === 0) return [];
    const [vectors, readyFiles] = await Promise.all([this.vectorsWithinColdWait(userId), this.readyFileIds(userId)]);
    if (vectors.rows === 0) return [];
    if (query.length !== vectors.dims) {
      throw new Error(`Query has ${query.length} dimensions, the user's index has ${vectors.dims}`);
    }
    const unit = l2Normalize(Float32Array.from(query));
    const filter = fileFilter(vectors, readyFiles, options.fileIds);
    if (filter === null) return [];
    const top = new TopK(limit);
    const { kernel } = vectors;
    kernel?.setQuery(unit); // nothing awaits from here to the end of the scans, so no other search reuses it meanwhile
    const scan = (start: number, end: number) =>
      kernel
        ? scanKernelRows(kernel, start, end, top, filter)
        : scanRows(vectors.matrix, vectors.dims, unit, start, end, top, filter);
    const probes = vectors.ivf ? Math.min(vectors.ivf.nlist, this.ivfProbes(vectors.ivf.nlist)) : 0;
    // IVF scans the rows of the `probes` nearest lists and filters afterwards: a filter that leaves fewer rows than
    // that (a question about a few files) would find only those of its rows that happen to lie in the nearest lists.
    // Scoring every allowed row then is exact and costs no more dot products.
    const narrow = filter !== undefined && filter.allowedRows <= (vectors.rows * probes) / (vectors.ivf?.nlist ?? 1);
    if (vectors.ivf && !options.exact && !narrow) {
      const { nlist, centroids, offsets } = vectors.ivf;
      const lists = new TopK(probes);
      scanRows(centroids, vectors.dims, unit, 0, nlist, lists);
      for (const { id } of lists.sorted()) scan(offsets[id]!, offsets[id + 1]!);
    } else {
      scan(0, vectors.rows);
    }
    return top.sorted().map(({ id, score }) => ({
      chunkId: vectors.chunkIds[id]!,
      fileId: vectors.fileIds[vectors.rowFiles[id]!]!,
      score,
    }));
  }

  /**
   * The user's vectors for a search; when nothing of the user is cached, only if they load within `coldWaitMs` (the
   * timer is armed only then: a cached snapshot answers at once).
   */
  private async vectorsWithinColdWait(userId: string): Promise<UserVectors> {
    const cached = this.cache.has(userId);
    const vectors = this.vectorsOf(userId, this.staleWhileReloading);
    if (cached) return vectors;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VectorIndexLoadingError(this.coldWaitMs)), this.coldWaitMs);
    });
    try {
      return await Promise.race([vectors, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Loads (or reuses) the user's index and describes it. */
  async warm(userId: string): Promise<VectorIndexStats> {
    return (await this.vectorsOf(userId)).stats;
  }

  evict(userId: string): void {
    const entry = this.cache.get(userId);
    if (!entry) return;
    this.cache.delete(userId);
    this.cachedBytes -= entry.bytes;
  }

  get bytes(): number {
    return this.cachedBytes;
  }

  /**
   * The user's vectors at the current version. With `allowStale`, a user whose older snapshot is cached gets that
   * one at once while the new one loads in the background (a 100k-vector reload takes seconds).
   */
  private async vectorsOf(userId: string, allowStale = false): Promise<UserVectors> {
    const version = await this.versions.current(userId);
    const cached = this.cache.get(userId);
    if (cached) {
      this.cache.delete(userId); // re-insert: a Map iterates oldest first, which makes it the LRU order
      this.cache.set(userId, cached);
    }
    if (cached && cached.version === version) return cached;
    const key = `${userId}:${version}`;
    let pending = this.loading.get(key);
    if (!pending) {
      const sequence = ++this.loadSequence;
      pending = this.load(userId, version)
        .then((loaded) => {
          this.remember(userId, loaded, sequence);
          return loaded;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
      // A background load nobody awaits must not become an unhandled rejection; awaiting callers still see it.
      pending.catch(() => undefined);
    }
    if (cached && allowStale) return cached;
    return pending;
  }

  /**
   * Keeps the snapshot of the load that started last: its rows were read last, so it is the freshest, whatever the
   * version numbers say (a Redis reset sends the counter back to 0; an older load finishing late never wins).
   */
  private remember(userId: string, vectors: UserVectors, sequence: number): void {
    if ((this.rememberedSequence.get(userId) ?? 0) > sequence) return;
    this.rememberedSequence.set(userId, sequence);
    this.evict(userId);
    this.cache.set(userId, vectors);
    this.cachedBytes += vectors.bytes;
    for (const [other, entry] of this.cache) {
      if (this.cachedBytes <= this.maxBytes || other === userId) break;
      this.cache.delete(other);
      this.rememberedSequence.delete(other);
      this.cachedBytes -= entry.bytes;
    }
  }

  private async readyFileIds(userId: string): Promise<Set<string>> {
    return new Set(await new FileRepository(this.db.manager).readyIds(userId));
  }

  /** Streams `id, file_id, embedding` rows (no entities) into one growing matrix, normalising each row. */
  private async load(userId: string, version: number): Promise<UserVectors> {
    const startedAt = performance.now();
    const [{ n } = { n: 0 }]: { n: number | string }[] = await this.db.query(
      'SELECT COUNT(*) AS n FROM file_chunk_vectors WHERE user_id = ?',
      [userId],
    );
    const expected = Number(n);
    let dims = 0;
    let rows = 0;
    let matrix = new Float32Array(0);
    let kernel: DotKernel | null = null;
    const chunkIds: string[] = [];
    const fileIds: string[] = [];
    const fileOrdinals = new Map<string, number>();
    let rowFiles = new Uint32Array(expected);

    const runner = this.db.createQueryRunner('slave');
    try {
      const stream: ReadStream = await runner.stream(
        'SELECT chunk_id AS id, file_id, embedding FROM file_chunk_vectors WHERE user_id = ?',
        [userId],
      );
      for await (const row of stream as AsyncIterable<VectorRow>) {
        const rowDims = row.embedding.byteLength >> 2;
        if (dims === 0) {
          dims = rowDims;
          kernel = expected >= this.simdMinRows ? DotKernel.create(expected, dims) : null;
          matrix = kernel?.matrix ?? new Float32Array(Math.max(expected, 1) * dims);
        }
        // A row of another width was embedded by another model: it cannot be compared with the rest.
        if (rowDims !== dims || rowDims === 0) continue;
        if ((rows + 1) * dims > matrix.length) {
          // More rows than counted (written meanwhile): a plain array from here on, scanned in JavaScript.
          kernel = null;
          matrix = grow(matrix, matrix.length * 2);
          rowFiles = grow(rowFiles, rowFiles.length * 2 + 1);
        }
        if (rows >= rowFiles.length) rowFiles = grow(rowFiles, rowFiles.length * 2 + 1);
        decodeVectorInto(row.embedding, matrix, rows * dims);
        l2NormalizeRange(matrix, rows * dims, dims);
        let ordinal = fileOrdinals.get(row.file_id);
        if (ordinal === undefined) {
          ordinal = fileIds.push(row.file_id) - 1;
          fileOrdinals.set(row.file_id, ordinal);
        }
        rowFiles[rows] = ordinal;
        chunkIds.push(row.id);
        rows++;
      }
    } finally {
      await runner.release();
    }
    if (matrix.length > rows * dims) {
      // Fewer rows than counted (deleted meanwhile): the kernel's memory is kept as it is, a plain array shrunk.
      matrix = kernel ? matrix.subarray(0, rows * dims) : matrix.slice(0, rows * dims);
    }
    rowFiles = rowFiles.slice(0, rows);
    const fileRows = new Uint32Array(fileIds.length);
    for (let row = 0; row < rows; row++) fileRows[rowFiles[row]!]!++;
    const loadMs = performance.now() - startedAt;

    let ivf: IvfPartition | undefined;
    let ivfBuildMs = 0;
    if (rows >= this.ivfMinRows) {
      const buildStartedAt = performance.now();
      const built = await buildIvfPartition(matrix, dims, rows, { nlist: this.ivfLists(rows) });
      ivf = built.partition;
      rowFiles = permuteRows(matrix, dims, rowFiles, chunkIds, built.order);
      ivfBuildMs = performance.now() - buildStartedAt;
    }
    // Chunk ids are 36 ASCII characters: about 36 bytes of string payload plus an object header each.
    const bytes =
      matrix.byteLength + rowFiles.byteLength + fileRows.byteLength + rows * 80 + (ivf?.centroids.byteLength ?? 0);
    const stats = { rows, dims, bytes, version, loadMs, ivfBuildMs, ivfLists: ivf?.nlist ?? 0, simd: kernel !== null };
    return {
      version,
      dims,
      rows,
      matrix,
      kernel: kernel ?? undefined,
      chunkIds,
      fileIds,
      rowFiles,
      fileRows,
      ivf,
      bytes,
      stats,
    };
  }
}

/**
 * `null` when no row can match; `undefined` when every row can (the scan then skips the per-row check); otherwise the
 * filter and how many rows it lets through.
 */
function fileFilter(
  vectors: UserVectors,
  ready: Set<string>,
  only?: string[],
): (RowFilter & { allowedRows: number }) | null | undefined {
  const wanted = only ? new Set(only) : undefined;
  const allowedFiles = new Uint8Array(vectors.fileIds.length);
  let allowedCount = 0;
  let allowedRows = 0;
  vectors.fileIds.forEach((fileId, ordinal) => {
    if (ready.has(fileId) && (!wanted || wanted.has(fileId))) {
      allowedFiles[ordinal] = 1;
      allowedCount++;
      allowedRows += vectors.fileRows[ordinal]!;
    }
  });
  if (allowedCount === 0) return null;
  if (allowedCount === vectors.fileIds.length) return undefined;
  return { rowFiles: vectors.rowFiles, allowedFiles, allowedRows };
}

function grow<T extends Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
