import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { ingestWorkflowId } from '#libs/contracts/ingest-file.contract';
import { ApiClient, signUpBenchUser } from './api-client';
import { sleep } from './bench-stack';
import { round1 } from './stats';

export const MB = 1024 * 1024;
/** How often the files are polled until ready: the figures are this coarse (about 3 % of a 16 MB run). */
const POLL_MS = 100;

/** Prose-like text: sentences of common words, paragraphs and a heading now and then (what chunking sees). */
export function syntheticMarkdown(bytes: number, seed: number): string {
  const words = (
    'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
    'workflow durable retrieval answer citation passage model token stream worker activity history replay search ' +
    'cluster database index vector query budget context branch message conversation upload document'
  ).split(' ');
  let state = seed || 1;
  const next = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    if (next() % 12 === 0) {
      const heading = `\n## Section ${++section}\n\n`;
      parts.push(heading);
      size += heading.length;
    }
    const sentences = 3 + (next() % 5);
    let paragraph = '';
    for (let s = 0; s < sentences; s++) {
      const length = 8 + (next() % 14);
      const sentence = Array.from({ length }, () => words[next() % words.length]).join(' ');
      paragraph += `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}. `;
    }
    paragraph = `${paragraph.trimEnd()}\n\n`;
    parts.push(paragraph);
    size += paragraph.length;
  }
  return parts.join('').slice(0, bytes);
}

/** One end-to-end ingestion run: every file uploaded at once, then polled until ready. */
export interface IngestRun {
  mbPerS: number;
  wallMs: number;
  /** Until the last upload was accepted (202). */
  uploadMs: number;
  /** Chunks indexed over all files. */
  chunks: number;
  /** The uploaded files' ids, in upload order. */
  fileIds: string[];
}

/**
 * Uploads `texts` as Markdown files through the API of the stack at `baseUrl` (a new user's), all at once, and waits
 * until each is `ready` (or `failed`, which lands in `errors`), up to 10 minutes: upload → object store → extract →
 * chunk → index, as a user sees it.
 */
export async function ingestThroughApi(
  baseUrl: string,
  texts: readonly string[],
  signal: AbortSignal,
  errors: string[],
): Promise<IngestRun> {
  const client = new ApiClient(baseUrl, signal);
  await signUpBenchUser(client);
  const auth = client.authorization!;
  const totalBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const started = performance.now();
  const ids = await Promise.all(
    texts.map(async (text, i) => {
      const form = new FormData();
      form.append('file', new Blob([text], { type: 'text/markdown' }), `bench-${i}.md`);
      const res = await fetch(`${baseUrl}/api/v1/files`, {
        method: 'POST',
        headers: { authorization: auth },
        body: form,
      });
      const body = (await res.json()) as { id?: string };
      if (res.status !== 202 || !body.id) throw new Error(`upload ${i}: ${res.status} ${JSON.stringify(body)}`);
      return body.id;
    }),
  );
  const uploadedMs = performance.now() - started;
  const pending = new Set(ids);
  let indexed = 0;
  const deadline = Date.now() + 10 * 60_000;
  // One list request per poll, as a client watching its uploads would do (not one request per file: eight files
  // polled one by one at this rate would spend as much CPU on the polling as on a good part of the ingestion).
  while (pending.size > 0 && Date.now() < deadline) {
    signal.throwIfAborted();
    for (const file of await listFiles(baseUrl, auth, ids.length)) {
      if (!pending.has(file.id)) continue;
      if (file.status === 'ready') {
        pending.delete(file.id);
        indexed += file.chunks;
      } else if (file.status === 'failed') {
        pending.delete(file.id);
        errors.push(`file ${file.id} failed: ${file.error?.detail ?? 'no reason'}`);
      }
    }
    if (pending.size > 0) await sleep(POLL_MS);
  }
  if (pending.size > 0) errors.push(`${pending.size} files were not ready within 10 minutes`);
  const wallMs = performance.now() - started;
  return {
    mbPerS: round1(totalBytes / MB / (wallMs / 1000)),
    wallMs: Math.round(wallMs),
    uploadMs: Math.round(uploadedMs),
    chunks: indexed,
    fileIds: ids,
  };
}

/**
 * How long the server took over `fileIds`, in ms: from the first file's ingest run started (as its upload begins) to
 * the last one closed (right after its file was marked ready), by Temporal's clock. Unlike the client's wall time
 * this carries no polling granularity (up to `POLL_MS` a run), which would blur rounds of a few seconds; the rows'
 * `updated_at` cannot stand in, as TypeORM sets it to `CURRENT_TIMESTAMP`, whole seconds.
 */
export async function serverIngestMs(temporal: Client, fileIds: readonly string[]): Promise<number> {
  const runs = await Promise.all(
    fileIds.map(async (id) => {
      const run = temporal.workflow.getHandle(ingestWorkflowId(id));
      await run.result(); // the row reads ready a local activity (the audit row) before the run closes
      return run.describe();
    }),
  );
  const first = Math.min(...runs.map((run) => run.startTime.getTime()));
  return Math.max(...runs.map((run) => run.closeTime!.getTime())) - first;
}

interface ListedFile {
  id: string;
  status: string;
  chunks: number;
  error?: { detail: string };
}

/** The user's newest `count` files, a page of at most 100 at a time. */
async function listFiles(baseUrl: string, auth: string, count: number): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(100, count - files.length)) });
    if (cursor) query.set('cursor', cursor);
    const res = await fetch(`${baseUrl}/api/v1/files?${query.toString()}`, { headers: { authorization: auth } });
    const page = (await res.json()) as { items?: ListedFile[]; nextCursor?: string | null };
    if (res.status !== 200 || !page.items) throw new Error(`listing files: ${res.status} ${JSON.stringify(page)}`);
    files.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor && files.length < count);
  return files;
}
