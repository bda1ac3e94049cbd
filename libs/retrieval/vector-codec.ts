/** Embeddings are stored as float32 little-endian (`file_chunk_vectors.embedding`), 4 bytes a dimension. */

export function encodeVector(vector: Float32Array): Buffer {
  const buffer = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i] ?? 0, i * 4);
  return buffer;
}

export function decodeVector(buffer: Uint8Array): Float32Array {
  if (buffer.byteLength % 4 !== 0) throw new Error(`An embedding is a multiple of 4 bytes, got ${buffer.byteLength}`);
  const out = new Float32Array(buffer.byteLength / 4);
  decodeVectorInto(buffer, out, 0);
  return out;
}

/** Decodes `buffer` into `target` from `offset` (in floats), without an intermediate copy. */
export function decodeVectorInto(buffer: Uint8Array, target: Float32Array, offset: number): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const dims = buffer.byteLength >> 2;
  for (let i = 0; i < dims; i++) target[offset + i] = view.getFloat32(i * 4, true);
}

/** Scales `vector` to unit length in place (a zero vector stays zero) and returns it. */
export function l2Normalize(vector: Float32Array): Float32Array {
  return l2NormalizeRange(vector, 0, vector.length);
}

/** Normalises `target[offset … offset + dims)` in place, the row of a flat matrix. */
export function l2NormalizeRange(target: Float32Array, offset: number, dims: number): Float32Array {
  let sum = 0;
  for (let i = offset; i < offset + dims; i++) {
    const value = target[i] ?? 0;
    sum += value * value;
  }
  if (sum === 0 || !Number.isFinite(sum)) return target;
  const scale = 1 / Math.sqrt(sum);
  for (let i = offset; i < offset + dims; i++) target[i] = (target[i] ?? 0) * scale;
  return target;
}
