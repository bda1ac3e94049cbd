import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Client, type BucketItem, type IncompleteUploadedBucketItem } from 'minio';

import { InFlightRequests } from './in-flight-requests';
import { assertValidObjectKey, assertValidObjectPrefix } from './object-key';
import type { ObjectStore, PutObjectOptions, PutObjectResult } from './object-store';
import { ObjectNotFoundError } from './object-store.errors';
import { SizeLimitedHashTransform } from './size-limited-hash.transform';

export interface S3StoreOptions {
  /** `http(s)://host[:port]`, no path: SeaweedFS locally, any S3-compatible server in production. */
  endPoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/**
 * Multipart part size. minio holds about two parts in memory per upload (one being sent, the next one filled), so
 * this bounds an upload's memory; 5 MiB is S3's minimum and allows objects up to 10 000 parts ≈ 48 GiB. Without it
 * minio sizes parts for its 5 TiB maximum (528 MiB) when the length is unknown, buffering whole uploads.
 */
const PART_SIZE = 5 * 1024 * 1024;
/** How long a failed put waits for minio to give up before cleaning up anyway. */
const SETTLE_TIMEOUT_MS = 30_000;
const MAX_ABORT_ROUNDS = 5;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * An S3 bucket through minio's client, path-style. A put streams the body through a size limit and SHA-256 into a
 * multipart upload of unknown length, so no upload is ever held in memory whole.
 *
 * minio 8 does not notice a failing body during a multipart upload: it listens for errors on its own chunking
 * stream only, so `putObject` would wait forever. `SizeLimitedHashTransform` destroys that stream with the body's
 * error, `putObject` rejects, and the put then aborts every multipart upload left for the key (waiting first for
 * any part still being sent). Because the body fails with an error rather than ending, minio never completes the
 * upload, so a failed put leaves the object that was there before, if any, untouched.
 */
export class S3Store implements ObjectStore {
  readonly driver = 's3';
  readonly #client: Client;
  readonly #bucket: string;
  readonly #region: string;
  readonly #requests = new InFlightRequests();

  constructor(options: S3StoreOptions) {
    const url = new URL(options.endPoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('S3 endpoint must be an http(s) URL');
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new Error('S3 endpoint must be scheme, host and port only (no path, query or credentials)');
    }
    const useSSL = url.protocol === 'https:';
    this.#bucket = options.bucket;
    this.#region = options.region;
    this.#client = new Client({
      endPoint: url.hostname,
      port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      pathStyle: true,
      partSize: PART_SIZE,
      transport: this.#requests.wrap(useSSL ? https : http),
    });
  }

  async checkReady(): Promise<void> {
    if (!(await this.#client.bucketExists(this.#bucket))) throw new Error('the bucket does not exist');
  }

  async ensureReady(): Promise<void> {
    if (await this.#client.bucketExists(this.#bucket)) return;
    try {
      await this.#client.makeBucket(this.#bucket, this.#region);
    } catch (error) {
      // Another process created it in the meantime.
      if (!hasS3Code(error, 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists')) throw error;
    }
  }

  async put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult> {
    let meter: SizeLimitedHashTransform;
    try {
      assertValidObjectKey(key);
      meter = new SizeLimitedHashTransform(opts.maxBytes, { hash: opts.sha256 !== false });
    } catch (error) {
      body.destroy();
      throw error;
    }
    // pipeline destroys the body as soon as the meter fails (too large, empty) and the meter when the body fails.
    const streamed = pipeline(body, meter);
    const metaData = opts.contentType === undefined ? {} : { 'Content-Type': opts.contentType };
    // Unknown length: always a multipart upload, in PART_SIZE parts.
    const uploaded = this.#client.putObject(this.#bucket, key, meter, undefined, metaData);
    try {
      await Promise.all([streamed, uploaded]);
    } catch (error) {
      meter.destroy(error instanceof Error ? error : new Error(String(error)));
      await settled(uploaded, SETTLE_TIMEOUT_MS);
      try {
        await this.#abortUploads(key);
      } catch {
        // The caller needs the put's own failure; an upload left behind is reclaimed by the bucket's lifecycle rule
        // for incomplete multipart uploads (recommended in production) or by the next put or deletePrefix.
      }
      // The body's own failure (too large, empty, client gone) rather than minio's echo of it.
      throw meter.errored ?? error;
    }
    return { size: meter.bytes, sha256: meter.sha256 };
  }

  async get(key: string): Promise<Readable> {
    assertValidObjectKey(key);
    try {
      return await this.#client.getObject(this.#bucket, key);
    } catch (error) {
      if (hasS3Code(error, 'NoSuchKey', 'NotFound')) throw new ObjectNotFoundError(key, { cause: error });
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    assertValidObjectKey(key);
    try {
      const { size } = await this.#client.statObject(this.#bucket, key);
      return { size };
    } catch (error) {
      if (hasS3Code(error, 'NoSuchKey', 'NotFound')) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidObjectKey(key);
    await this.#client.removeObject(this.#bucket, key); // S3 answers 204 for a missing key too
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidObjectPrefix(prefix);
    let removed = 0;
    let batch: string[] = [];
    const objects = this.#client.listObjectsV2(this.#bucket, prefix, true) as AsyncIterable<BucketItem>;
    for await (const item of objects) {
      if (item.name === undefined) continue;
      batch.push(item.name);
      if (batch.length === DELETE_BATCH) {
        removed += await this.#removeBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) removed += await this.#removeBatch(batch);
    const uploads = this.#client.listIncompleteUploads(this.#bucket, prefix, true);
    for await (const upload of uploads as AsyncIterable<IncompleteUploadedBucketItem>) {
      await this.#client.abortMultipartUpload(this.#bucket, upload.key, upload.uploadId);
    }
    return removed;
  }

  async #removeBatch(keys: string[]): Promise<number> {
    const failures = (await this.#client.removeObjects(this.#bucket, keys)).filter((result) => result?.Error);
    const first = failures[0]?.Error;
    if (first !== undefined) {
      throw new Error(`S3 could not delete ${failures.length} of ${keys.length} objects (${first.Code ?? 'unknown'})`);
    }
    return keys.length;
  }

  /** Aborts every multipart upload for `key`, once no request for it is in flight any more. */
  async #abortUploads(key: string): Promise<void> {
    for (let round = 0; round < MAX_ABORT_ROUNDS; round++) {
      await this.#requests.idle(this.#bucket, key);
      const uploadId = await this.#client.findUploadId(this.#bucket, key);
      if (uploadId === undefined) return;
      await this.#client.abortMultipartUpload(this.#bucket, key, uploadId);
    }
  }
}

/** Waits until `promise` settles or `timeoutMs` pass, whichever is first; never rejects. */
async function settled(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([promise.then(noop, noop), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}

function hasS3Code(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes(String((error as { code?: unknown }).code));
}
