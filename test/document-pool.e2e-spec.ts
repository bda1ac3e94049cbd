import { DocumentError } from '#libs/documents/document.error';
import { DocumentPool } from '#libs/documents/document-pool';
import { prepareDocument } from '#libs/documents/prepare-document';

const OPTIONS = { chunkTokens: 40, overlapTokens: 5 };
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const markdown = (n: number): string =>
  `# Doc ${n}\n\n${Array.from({ length: 30 }, (_, i) => `Sentence ${i} of document ${n} about durable workflows.`).join(' ')}\n\n## Part\n\nMore text for ${n}.`;

describe('DocumentPool (extraction and chunking on worker threads)', () => {
  let pool: DocumentPool;
  beforeAll(() => {
    pool = new DocumentPool({ threads: 2 });
  });
  afterAll(async () => pool.close());

  it('prepares exactly what the calling thread would, for several documents at once (queued past the threads)', async () => {
    const texts = Array.from({ length: 5 }, (_, n) => markdown(n));
    const pooled = await Promise.all(texts.map((text) => pool.prepare('md', utf8(text), OPTIONS)));
    const inline = await Promise.all(texts.map((text) => prepareDocument('md', utf8(text), OPTIONS)));
    expect(pooled).toEqual(inline);
    expect(pooled[3]!.chunks.length).toBeGreaterThan(1);
    expect(pooled[3]!.chunks[0]!.heading).toBe('Doc 3');
  });

  it('rejects a document it cannot read with the same DocumentError code, and keeps working', async () => {
    const failure = await pool.prepare('json', utf8('{"not": json'), OPTIONS).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DocumentError);
    expect(failure).toMatchObject({ code: 'corrupt' });
    const empty = await pool.prepare('txt', utf8('   \n\n  '), OPTIONS).catch((error: unknown) => error);
    expect(empty).toMatchObject({ code: 'empty' });
    expect((await pool.prepare('txt', utf8('still here'), OPTIONS)).chunks).toHaveLength(1);
  });

  it('fails a document whose thread runs out of memory as too_large, and replaces the thread', async () => {
    // Enough heap for the tokenizer's tables (a thread must load them to work at all), not for the document.
    const tiny = new DocumentPool({ threads: 1, maxHeapMb: 128 });
    try {
      const huge = 'word '.repeat(40_000_000); // 200 MB of text cannot even be decoded in a 128 MB heap
      const failure = await tiny.prepare('txt', utf8(huge), OPTIONS).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DocumentError);
      expect(failure).toMatchObject({ code: 'too_large' });
      expect((await tiny.prepare('txt', utf8('small again'), OPTIONS)).chunks).toHaveLength(1);
    } finally {
      await tiny.close();
    }
  });

  it('drops a waiting job and stops a running one when its signal aborts, then goes on with the next', async () => {
    const single = new DocumentPool({ threads: 1 });
    try {
      const big = utf8(markdown(1).repeat(4000)); // a few seconds of chunking on the only thread
      const running = new AbortController();
      const waiting = new AbortController();
      const first = single.prepare('md', big, OPTIONS, running.signal).catch((error: unknown) => error);
      const second = single.prepare('md', big, OPTIONS, waiting.signal).catch((error: unknown) => error);
      waiting.abort(new Error('cancelled while waiting'));
      expect(await second).toMatchObject({ message: 'cancelled while waiting' });
      running.abort(new Error('cancelled while running'));
      expect(await first).toMatchObject({ message: 'cancelled while running' });
      expect((await single.prepare('txt', utf8('after the cancel'), OPTIONS)).chunks).toHaveLength(1);
    } finally {
      await single.close();
    }
  });

  it('refuses work once closed', async () => {
    const closing = new DocumentPool({ threads: 1 });
    await closing.close();
    await expect(closing.prepare('txt', utf8('late'), OPTIONS)).rejects.toThrow(/closed/);
  });
});
