import fc from 'fast-check';
import { decodeVector, encodeVector, l2Normalize } from './vector-codec';

describe('vector codec', () => {
  it('stores float32 little-endian, 4 bytes a dimension', () => {
    const buffer = encodeVector(new Float32Array([1, -2.5]));
    expect(buffer.toString('hex')).toBe('0000803f000020c0');
    expect([...decodeVector(buffer)]).toEqual([1, -2.5]);
  });

  it('refuses a buffer that is not whole floats', () => {
    expect(() => decodeVector(Buffer.alloc(6))).toThrow(/multiple of 4/);
  });

  it('decodes from an unaligned offset of a larger buffer', () => {
    const big = Buffer.concat([Buffer.from([9]), encodeVector(new Float32Array([3, 4]))]);
    expect([...decodeVector(big.subarray(1))]).toEqual([3, 4]);
  });

  it('normalises to unit length and leaves a zero vector alone', () => {
    expect([...l2Normalize(new Float32Array([3, 4]))]).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect([...l2Normalize(new Float32Array([0, 0]))]).toEqual([0, 0]);
  });

  it('property: encode then decode is the identity for float32 values', () => {
    fc.assert(
      fc.property(fc.float32Array({ noNaN: true, maxLength: 64 }), (vector) => {
        expect(decodeVector(encodeVector(vector))).toEqual(vector);
      }),
    );
  });
});
