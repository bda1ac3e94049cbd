import { performance } from 'node:perf_hooks';
import { createTokenCounter } from './token-counter';

describe('createTokenCounter (o200k_base)', () => {
  const counter = createTokenCounter();

  it('counts ordinary text exactly', () => {
    expect(counter.count('')).toBe(0);
    expect(counter.count('hello world')).toBe(2);
  });

  it('treats special-token strings in user text as plain text instead of throwing', () => {
    expect(counter.count('before <|endoftext|> after')).toBeGreaterThan(3);
    expect(counter.count('<|im_start|>system')).toBeGreaterThan(1);
  });

  it('stays fast and close on long unbroken runs (hostile input)', () => {
    const started = performance.now();
    const capitals = counter.count('A'.repeat(8000));
    const emoji = counter.count(`x${'😀'.repeat(4000)}`); // odd offset: slices must not split surrogate pairs
    const mixed = counter.count(`start ${'x'.repeat(5000)} end`);
    expect(performance.now() - started).toBeLessThan(2000); // whole-run BPE takes tens of seconds here
    expect(capitals).toBeGreaterThan(8000 / 32);
    expect(emoji).toBeGreaterThanOrEqual(4000);
    expect(mixed).toBeGreaterThan(5000 / 32);
    // Words shorter than the run limit are counted whole, exactly as before.
    expect(counter.count('supercalifragilisticexpialidocious is long')).toBe(12); // as js-tiktoken counts it whole
  });
});
