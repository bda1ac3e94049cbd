import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DocumentError, type DocumentErrorCode } from './document.error';
import type { DocumentKind } from './file-type';
import { prepareDocument, type PrepareOptions, type PreparedDocument } from './prepare-document';

interface Job {
  id: number;
  signal?: AbortSignal;
  kind: DocumentKind;
  data: Uint8Array;
  options: PrepareOptions;
  resolve: (result: PreparedDocument) => void;
  reject: (error: Error) => void;
}

type Reply =
  | { id: number; ok: true; result: PreparedDocument }
  | { id: number; ok: false; error: { name: string; message: string; code?: DocumentErrorCode } };

/**
 * The thread each pool worker runs: plain JavaScript evaluated from this string, so the pool behaves the same from
 * compiled output and from TypeScript sources (development and tests, where `.ts` files are compiled on load with
 * swc, a development dependency). It prepares one document at a time and answers with its chunks.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.modulePath.endsWith('.ts')) {
  const { readFileSync } = require('node:fs');
  const swc = require('@swc/core');
  require.extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
      filename,
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}
const { prepareDocument } = require(workerData.modulePath);
parentPort.on('message', async ({ id, kind, data, options }) => {
  try {
    const result = await prepareDocument(kind, data, options);
    parentPort.postMessage({ id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({
      id,
      ok: false,
      error: { name: error && error.name || 'Error', message: String(error && error.message || error), code: error && error.code },
    });
  }
});
`;

export interface DocumentPoolOptions {
  /** Threads; default all cores but one (at least one). 0 = prepare on the calling thread. */
  threads?: number;
  /** Heap per thread, MB (a document's text and chunks live there while it is prepared). */
  maxHeapMb?: number;
}

/**
 * Prepares documents (extract + chunk) on worker threads, so a large upload never blocks the worker's event loop:
 * chat turns in the same process keep streaming and heartbeating while files are ingested. Jobs queue when every
 * thread is busy; a thread that dies is replaced and only its job fails.
 */
export class DocumentPool {
  private readonly threads: number;
  private readonly maxHeapMb: number;
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly modulePath = resolveModule();

  constructor(options: DocumentPoolOptions = {}) {
    this.threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.maxHeapMb = options.maxHeapMb ?? 1024;
  }

  /**
   * Prepares one document. Aborting `signal` takes a waiting job out of the queue, or stops the thread running it
   * (a new one replaces it): a cancelled or timed-out activity never leaves its document running beside its retry.
   */
  prepare(
    kind: DocumentKind,
    data: Uint8Array,
    options: PrepareOptions,
    signal?: AbortSignal,
  ): Promise<PreparedDocument> {
    if (this.closed) return Promise.reject(new Error('The document pool is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.threads === 0) return prepareDocument(kind, data, options);
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, kind, data, options, resolve, reject, ...(signal ? { signal } : {}) };
      signal?.addEventListener('abort', () => this.abort(job), { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.reject(abortError(job.signal));
      return;
    }
    for (const [worker, running] of this.busy) {
      if (running !== job) continue;
      this.busy.delete(worker);
      job.reject(abortError(job.signal));
      void worker.terminate(); // its 'exit' finds no job; the pool spawns a replacement when work comes
      return;
    }
  }

  /**
   * Starts every thread and has it load its modules and the tokenizer's tables now (about a second), so the first
   * upload after a worker starts is not the one that pays for it. Never rejects.
   */
  async warm(): Promise<void> {
    const sample = new TextEncoder().encode('warm up');
    const jobs = Array.from({ length: this.threads }, () =>
      this.prepare('txt', sample, { chunkTokens: 16, overlapTokens: 0 }).catch(() => undefined),
    );
    await Promise.all(jobs);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('The document pool is closed'));
    const workers = [...this.idle.splice(0), ...this.busy.keys()];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.threads ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      // The bytes are copied, not transferred: the caller's buffer may be a slice of a larger pooled one.
      worker.postMessage({ id: job.id, kind: job.kind, data: job.data, options: job.options });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath: this.modulePath },
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      if (job) {
        if (reply.ok) job.resolve(reply.result);
        else job.reject(toError(reply.error));
      }
      if (!this.closed) this.idle.push(worker);
      this.dispatch();
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`The document thread exited (${code})`)));
    return worker;
  }

  /** A thread died (out of memory, a crash): its job fails as too large or broken; the pool carries on. */
  private lost(worker: Worker, error: Error): void {
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    if (job) {
      job.reject(
        /memory|ERR_WORKER_OUT_OF_MEMORY/i.test(`${error.message} ${(error as NodeJS.ErrnoException).code ?? ''}`)
          ? new DocumentError('too_large', 'The document needs more memory to read than a file may use')
          : error,
      );
    }
    if (!this.closed) this.dispatch();
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('The document was not prepared: its job was cancelled');
}

function toError(error: { name: string; message: string; code?: DocumentErrorCode }): Error {
  if (error.name === 'DocumentError' && error.code) return new DocumentError(error.code, error.message);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

/** The compiled module next to this one, or its TypeScript source when running from sources. */
function resolveModule(): string {
  const compiled = resolve(__dirname, 'prepare-document.js');
  return existsSync(compiled) ? compiled : resolve(__dirname, 'prepare-document.ts');
}
