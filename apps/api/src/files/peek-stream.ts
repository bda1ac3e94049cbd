import { PassThrough, Readable } from 'node:stream';

export interface PeekedStream {
  /** The first bytes: at least the number asked for, or the whole stream when it is shorter. */
  head: Buffer;
  /** True when `head` is the whole stream. */
  ended: boolean;
  /** The whole stream again, `head` first, then the rest as it arrives (call once). */
  body(): Readable;
  /** Reads and drops whatever the source still holds, so the producer (a multipart parser) can move on. */
  discard(): void;
}

/**
 * Reads the first `bytes` bytes of `source` without losing them: the type of an upload is decided from its first
 * bytes before anything is stored, then the same bytes are streamed on. Only the head is held in memory.
 */
export async function peekStream(source: Readable, bytes: number): Promise<PeekedStream> {
  const parts: Buffer[] = [];
  let size = 0;
  const ended = await new Promise<boolean>((resolve, reject) => {
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= bytes) {
        source.pause();
        cleanup();
        resolve(false);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(true);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
  });
  const head = Buffer.concat(parts, size);
  let out: PassThrough | undefined;
  // From here until the end, the source always has a listener for its errors: between the peek and `body()` the
  // caller does other work (starts the ingest run, writes the row), and a source failing then — a client that went
  // away — must not be an unheard 'error' that takes the process down. The error is kept for `body()`.
  let failed: Error | undefined;
  source.on('error', (error: Error) => {
    failed = error;
    out?.destroy(error);
  });

  return {
    head,
    ended,
    body() {
      out = new PassThrough();
      if (failed) {
        const error = failed;
        process.nextTick(() => out?.destroy(error)); // after the caller has attached its listeners
        return out;
      }
      if (head.length > 0) out.write(head);
      if (ended) out.end();
      else source.pipe(out);
      return out;
    },
    discard() {
      if (out) source.unpipe(out);
      if (!ended && !source.readableEnded) source.resume();
    },
  };
}
