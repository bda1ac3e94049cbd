import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DocumentError } from './document.error';

export interface PdfLimits {
  /** Stop and reject the file once this many characters have been extracted. */
  maxTextChars: number;
  /** Wall-clock budget for the whole file; the parsing thread is terminated after it. */
  timeoutMs: number;
  /** Heap ceiling of the parsing thread. */
  maxHeapMb: number;
}

type WorkerReply =
  { ok: true; pages: string[] } | { ok: false; reason: 'encrypted' | 'corrupt' | 'too_large'; detail: string };

/**
 * Runs in a separate thread (plain JavaScript, evaluated from this string so it behaves the same from TypeScript
 * sources under Jest and from compiled output). pdfjs-dist is ESM-only, so it is imported by absolute file URL; its
 * own "worker" runs in this thread (`globalThis.pdfjsWorker`) because the thread already is the isolation boundary.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { data, pdfUrl, pdfWorkerUrl, maxTextChars } = workerData;
async function run() {
  globalThis.pdfjsWorker = await import(pdfWorkerUrl);
  const pdfjs = await import(pdfUrl);
  let doc;
  try {
    doc = await pdfjs.getDocument({
      data,
      isEvalSupported: false,
      useSystemFonts: false,
      disableFontFace: true,
      useWorkerFetch: false,
      enableXfa: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    const name = error && error.name;
    if (name === 'PasswordException') return { ok: false, reason: 'encrypted', detail: String(error.message) };
    return { ok: false, reason: 'corrupt', detail: String(error && error.message) };
  }
  const pages = [];
  let total = 0;
  for (let number = 1; number <= doc.numPages; number++) {
    const page = await doc.getPage(number);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) {
      if (typeof item.str !== 'string') continue;
      text += item.str;
      if (item.hasEOL) text += '\\n';
    }
    page.cleanup();
    total += text.length;
    if (total > maxTextChars) {
      await doc.destroy();
      return { ok: false, reason: 'too_large', detail: 'text limit' };
    }
    pages.push(text);
  }
  await doc.destroy();
  return { ok: true, pages };
}
run().then(
  (reply) => parentPort.postMessage(reply),
  (error) => parentPort.postMessage({ ok: false, reason: 'corrupt', detail: String(error && error.message) }),
);
`;

let pdfUrls: { pdfUrl: string; pdfWorkerUrl: string } | undefined;

function resolvePdfjs(): { pdfUrl: string; pdfWorkerUrl: string } {
  pdfUrls ??= {
    pdfUrl: pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href,
    pdfWorkerUrl: pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs')).href,
  };
  return pdfUrls;
}

/**
 * Extracts the text of every page of a PDF in a short-lived worker thread with a heap ceiling and a deadline, so a
 * hostile file can neither block the event loop nor exhaust the process's memory.
 */
export function extractPdfPages(data: Uint8Array, limits: PdfLimits): Promise<string[]> {
  // The thread gets its own copy, moved rather than cloned: the caller keeps its bytes, and only they are copied.
  const copy = data.slice();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { data: copy, maxTextChars: limits.maxTextChars, ...resolvePdfjs() },
    transferList: [copy.buffer],
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  // pdfjs writes warnings about the file's internals; they are noise to the caller and must not reach the logs raw.
  worker.stdout.resume();
  worker.stderr.resume();

  return new Promise<string[]>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new DocumentError('too_large', 'The PDF took too long to read; try a smaller file.')));
    }, limits.timeoutMs);

    worker.once('message', (reply: WorkerReply) => {
      finish(() => (reply.ok ? resolve(reply.pages) : reject(replyError(reply.reason, limits))));
    });
    worker.once('error', (error: Error & { code?: string }) => {
      finish(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new DocumentError('too_large', 'The PDF needs too much memory to read; try a smaller file.', {
                cause: error,
              })
            : new DocumentError('corrupt', 'The PDF could not be read; the file may be damaged.', { cause: error }),
        ),
      );
    });
    worker.once('exit', () => {
      finish(() => reject(new DocumentError('corrupt', 'The PDF could not be read; the file may be damaged.')));
    });
  });
}

function replyError(reason: 'encrypted' | 'corrupt' | 'too_large', limits: PdfLimits): DocumentError {
  switch (reason) {
    case 'encrypted':
      return new DocumentError('encrypted', 'The PDF is password-protected; remove the password and upload it again.');
    case 'too_large':
      return new DocumentError(
        'too_large',
        `The PDF contains more than ${limits.maxTextChars.toLocaleString('en-US')} characters of text.`,
      );
    case 'corrupt':
      return new DocumentError('corrupt', 'The PDF could not be read; the file may be damaged.');
  }
}
