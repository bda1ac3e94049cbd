/**
 * Dot products of a query with many rows in WebAssembly SIMD (four floats per instruction), for vector search over
 * large indexes: JavaScript has no SIMD, and on this kind of loop the kernel does several times the rows per
 * millisecond. The module is a few dozen bytes assembled below (no toolchain, no binary file in the repository):
 *
 *   (func (export "dots") (param $row i32) (param $query i32) (param $rowBytes i32) (param $rows i32) (param $out i32)
 *     (local $d i32) (local $acc v128)
 *     (loop $eachRow
 *       (local.set $acc (v128.const f32x4 0 0 0 0))
 *       (local.set $d (i32.const 0))
 *       (loop $eachFour
 *         (local.set $acc (f32x4.add (local.get $acc)
 *           (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $d)))
 *                      (v128.load (i32.add (local.get $query) (local.get $d))))))
 *         (br_if $eachFour (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $rowBytes))))
 *       (f32.store (local.get $out) (sum of the four lanes of $acc))
 *       (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
 *       (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *       (br_if $eachRow (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))
 *
 * The matrix lives in the module's memory: a header page holds the query and a block of scores, the rows follow.
 * Scores are summed in 32-bit floats (the JavaScript scan sums in 64-bit): every score of an index comes from the
 * kernel, so rankings within it stay consistent.
 */

const PAGE = 65_536;
/** wasm32 memories stop at 4 GiB (65,536 pages). */
const MAX_PAGES = 65_536;
/** Rows scored per call: their scores fit in the header page beside the query. */
export const KERNEL_BLOCK_ROWS = 4096;
const MAX_KERNEL_DIMS = (PAGE - KERNEL_BLOCK_ROWS * 4) / 4;

function kernelModuleBytes(): Uint8Array {
  const simd = (op: number, ...rest: number[]) => [0xfd, ...leb128(op), ...rest];
  const get = (local: number) => [0x20, local];
  const set = (local: number) => [0x21, local];
  const tee = (local: number) => [0x22, local];
  const [row, query, rowBytes, rows, out, d, acc] = [0, 1, 2, 3, 4, 5, 6];
  const lane = (index: number) => [...get(acc), ...simd(0x1f, index)]; // f32x4.extract_lane
  const body = [
    ...[0x02, 0x01, 0x7f, 0x01, 0x7b], // locals: one i32 ($d), one v128 ($acc)
    ...[0x03, 0x40], // loop $eachRow
    ...simd(0x0c, ...new Array<number>(16).fill(0)), // v128.const 0
    ...set(acc),
    ...[0x41, 0x00, ...set(d)],
    ...[0x03, 0x40], // loop $eachFour
    ...get(acc),
    ...get(row),
    ...get(d),
    0x6a, // i32.add
    ...simd(0x00, 0x04, 0x00), // v128.load align=16 offset=0
    ...get(query),
    ...get(d),
    0x6a,
    ...simd(0x00, 0x04, 0x00),
    ...simd(0xe6), // f32x4.mul
    ...simd(0xe4), // f32x4.add
    ...set(acc),
    ...get(d),
    ...[0x41, 0x10, 0x6a], // + 16
    ...tee(d),
    ...get(rowBytes),
    0x49, // i32.lt_u
    ...[0x0d, 0x00], // br_if $eachFour
    0x0b, // end $eachFour
    ...get(out),
    ...lane(0),
    ...lane(1),
    0x92, // f32.add
    ...lane(2),
    0x92,
    ...lane(3),
    0x92,
    ...[0x38, 0x02, 0x00], // f32.store align=4 offset=0
    ...get(row),
    ...get(rowBytes),
    0x6a,
    ...set(row),
    ...get(out),
    ...[0x41, 0x04, 0x6a],
    ...set(out),
    ...get(rows),
    ...[0x41, 0x01, 0x6b], // - 1
    ...tee(rows),
    ...[0x0d, 0x00], // br_if $eachRow
    0x0b, // end $eachRow
    0x0b, // end of the function
  ];
  const name = (text: string) => [text.length, ...Buffer.from(text, 'ascii')];
  const section = (id: number, content: number[]) => [id, ...leb128(content.length), ...content];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // (i32 × 5) → ()
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]), // imports memory, at least 1 page
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('dots'), 0x00, 0x00]),
    ...section(10, [0x01, ...leb128(body.length), ...body]),
  ]);
}

function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** The few parts of the WebAssembly API used here (this project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled module, or `null` where WebAssembly SIMD is unavailable (the JavaScript scan is used instead). */
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    if (!wasm) return (compiled = null);
    try {
      compiled = new wasm.Module(kernelModuleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A matrix of `rows × dims` floats in a WebAssembly memory of its own, with the kernel that scores it. `create`
 * returns `null` when the kernel cannot serve (no SIMD, `dims` not a multiple of 4, more than 4 GiB): callers then
 * keep a plain `Float32Array` and the JavaScript scan.
 */
export class DotKernel {
  /** The rows, `rows × dims` floats, row-major. */
  readonly matrix: Float32Array<ArrayBuffer>;
  private readonly query: Float32Array;
  private readonly scores: Float32Array;
  private readonly rowBytes: number;

  private constructor(
    private readonly dots: (row: number, query: number, rowBytes: number, rows: number, out: number) => void,
    memory: WasmMemory,
    rows: number,
    private readonly dims: number,
  ) {
    this.rowBytes = dims * 4;
    this.scores = new Float32Array(memory.buffer, 0, KERNEL_BLOCK_ROWS);
    this.query = new Float32Array(memory.buffer, KERNEL_BLOCK_ROWS * 4, dims);
    this.matrix = new Float32Array(memory.buffer, PAGE, rows * dims);
  }

  static create(rows: number, dims: number): DotKernel | null {
    if (dims === 0 || dims % 4 !== 0 || dims > MAX_KERNEL_DIMS) return null;
    const pages = 1 + Math.ceil((rows * dims * 4) / PAGE);
    if (pages > MAX_PAGES) return null;
    const module = kernelModule();
    if (!module || !wasm) return null;
    let memory: WasmMemory;
    try {
      memory = new wasm.Memory({ initial: pages, maximum: pages });
    } catch {
      return null; // the allocation was refused: the plain array will be tried (and fail loudly if memory is short)
    }
    const instance = new wasm.Instance(module, { env: { memory } });
    const dots = instance.exports.dots as (
      row: number,
      query: number,
      rowBytes: number,
      rows: number,
      out: number,
    ) => void;
    return new DotKernel(dots, memory, rows, dims);
  }

  /** Sets the query the next `score` calls compare rows with (`dims` floats). */
  setQuery(query: Float32Array): void {
    this.query.set(query.subarray(0, this.dims));
  }

  /**
   * Scores rows `[start, start + count)` of `matrix` (`count` ≤ `KERNEL_BLOCK_ROWS`, at least 1) against the query;
   * the result is a view that the next call overwrites.
   */
  score(start: number, count: number): Float32Array {
    this.dots(PAGE + start * this.rowBytes, KERNEL_BLOCK_ROWS * 4, this.rowBytes, count, 0);
    return count === KERNEL_BLOCK_ROWS ? this.scores : this.scores.subarray(0, count);
  }
}
