import * as fc from 'fast-check';
import { constantTimeEqual } from './constant-time';

describe('constantTimeEqual', () => {
  it('is true for equal strings and equal buffers', () => {
    expect(constantTimeEqual('s3cret-value', 's3cret-value')).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('is false when one byte differs, including the last', () => {
    expect(constantTimeEqual('s3cret-value', 's3cret-valuf')).toBe(false);
    expect(constantTimeEqual('s3cret-value', 'S3cret-value')).toBe(false);
  });

  it('is false, not an exception, for different lengths', () => {
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(64))).toBe(false);
  });

  it('compares a string with a buffer by its UTF-8 bytes', () => {
    expect(constantTimeEqual('žluťoučký', Buffer.from('žluťoučký', 'utf8'))).toBe(true);
    expect(constantTimeEqual('abc', Buffer.from('abd'))).toBe(false);
  });

  it('agrees with === on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => constantTimeEqual(a, b) === (a === b)),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.string(), (a) => constantTimeEqual(a, a)));
  });
});
