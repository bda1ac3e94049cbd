import { Readable } from 'node:stream';
import { peekStream } from './peek-stream';

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function chunked(data: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) pieces.push(data.subarray(at, at + size));
  return Readable.from(pieces, { objectMode: false });
}

describe('peekStream', () => {
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));

  it('returns at least the bytes asked for, then the whole stream byte for byte', async () => {
    const peeked = await peekStream(chunked(data, 1000), 4096);
    expect(peeked.ended).toBe(false);
    expect(peeked.head.length).toBeGreaterThanOrEqual(4096);
    expect(peeked.head.equals(data.subarray(0, peeked.head.length))).toBe(true);
    expect((await collect(peeked.body())).equals(data)).toBe(true);
  });

  it('holds the whole of a short stream as its head', async () => {
    const peeked = await peekStream(chunked(data.subarray(0, 300), 100), 4096);
    expect(peeked.ended).toBe(true);
    expect(peeked.head.equals(data.subarray(0, 300))).toBe(true);
    expect((await collect(peeked.body())).equals(data.subarray(0, 300))).toBe(true);
  });

  it('gives an empty head for an empty stream', async () => {
    const peeked = await peekStream(Readable.from([], { objectMode: false }), 4096);
    expect([peeked.ended, peeked.head.length]).toEqual([true, 0]);
  });

  it('lets the source run to its end when discarded', async () => {
    const source = chunked(data, 500);
    const peeked = await peekStream(source, 1000);
    const ended = new Promise<void>((resolve) => source.once('end', resolve));
    peeked.discard();
    await ended;
    expect(source.readableEnded).toBe(true);
  });

  it("passes the source's error on", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(peekStream(failing, 10)).rejects.toThrow('client went away');
  });

  it('holds a source error raised between the peek and body() (no unheard error), and body() then fails with it', async () => {
    const source = chunked(data, 500);
    const peeked = await peekStream(source, 1000);
    // The caller is busy (starting the run, writing the row) when the client goes away.
    source.destroy(new Error('client went away'));
    await new Promise((resolve) => setImmediate(resolve));
    const body = peeked.body();
    await expect(
      new Promise((resolve, reject) => {
        body.on('data', () => undefined);
        body.once('end', resolve);
        body.once('error', reject);
      }),
    ).rejects.toThrow('client went away');
  });

  it('fails body() when the source errors while it streams', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(2000, 1));
    const peeked = await peekStream(source, 1000);
    const body = peeked.body();
    const failed = new Promise((resolve, reject) => {
      body.on('data', () => undefined);
      body.once('end', resolve);
      body.once('error', reject);
    });
    source.destroy(new Error('cut mid-body'));
    await expect(failed).rejects.toThrow('cut mid-body');
  });
});
