import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat as statPath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { Client } from 'minio';

import { createObjectStore } from '#libs/storage/create-object-store';
import { LocalDirectoryStore } from '#libs/storage/local-directory.store';
import { objectKeyFor, userPrefixFor, type ObjectStore } from '#libs/storage/object-store';
import {
  EmptyObjectError,
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectTooLargeError,
} from '#libs/storage/object-store.errors';
import { S3Store } from '#libs/storage/s3.store';

const MiB = 1024 * 1024;
const S3_ENDPOINT = process.env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:8333';
const S3_ACCESS_KEY = 'gigachat';
const S3_SECRET_KEY = 'gigachat-secret-key';
const S3_REGION = 'us-east-1';

// A full collection on demand, so the memory test measures live memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** One driver under test: how to build it, and how to look behind it for anything a put left over. */
interface DriverFixture {
  readonly driver: 'local' | 's3';
  /** Creates a store on a fresh, not yet existing bucket or directory. */
  setUp(): Promise<ObjectStore>;
  containerExists(): Promise<boolean>;
  /** Traces of puts that did not finish: temp files, incomplete multipart uploads. */
  leftovers(): Promise<string[]>;
  /** Leaves a put to `key` half done, as a crash would. */
  abandonUpload(key: string): Promise<void>;
  tearDown(): Promise<void>;
}

function localFixture(): DriverFixture {
  let parent = '';
  let root = '';
  return {
    driver: 'local',
    async setUp() {
      parent = await mkdtemp(join(tmpdir(), 'object-store-'));
      root = join(parent, 'files');
      return new LocalDirectoryStore(root);
    },
    async containerExists() {
      return (await statPath(root).catch(() => null))?.isDirectory() ?? false;
    },
    async leftovers() {
      // Everything in the parent except the root itself would be an escape; dot files inside the root are temp files.
      const outside = (await readdir(parent)).filter((name) => name !== 'files');
      const inside = (await readdir(root, { recursive: true })).filter((path) => /(^|\/)\./.test(path));
      return [...outside, ...inside];
    },
    async abandonUpload(key) {
      const file = join(root, key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(join(dirname(file), `.${key.split('/').pop()}.${randomUUID()}.tmp`), 'half an upload');
    },
    async tearDown() {
      await rm(parent, { recursive: true, force: true });
    },
  };
}

function s3Fixture(): DriverFixture {
  const url = new URL(S3_ENDPOINT);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    useSSL: url.protocol === 'https:',
    accessKey: S3_ACCESS_KEY,
    secretKey: S3_SECRET_KEY,
    region: S3_REGION,
    pathStyle: true,
  });
  const bucket = `test-${randomUUID().slice(0, 8)}`;
  const incompleteUploads = async () => {
    const uploads: string[] = [];
    for await (const upload of client.listIncompleteUploads(bucket, '', true)) uploads.push(upload.key);
    return uploads;
  };
  return {
    driver: 's3',
    async setUp() {
      // Fails (never skips) the whole block when the endpoint does not answer: CI starts SeaweedFS.
      await client.listBuckets().catch((error: unknown) => {
        throw new Error(`S3 endpoint ${S3_ENDPOINT} is not reachable (start it: bash deploy/services.sh up)`, {
          cause: error,
        });
      });
      return new S3Store({
        endPoint: S3_ENDPOINT,
        accessKey: S3_ACCESS_KEY,
        secretKey: S3_SECRET_KEY,
        bucket,
        region: S3_REGION,
      });
    },
    containerExists: () => client.bucketExists(bucket),
    leftovers: incompleteUploads,
    async abandonUpload(key) {
      await client.initiateNewMultipartUpload(bucket, key, {});
    },
    async tearDown() {
      if (!(await client.bucketExists(bucket).catch(() => false))) return;
      const names: string[] = [];
      for await (const item of client.listObjectsV2(bucket, '', true)) if (item.name) names.push(item.name);
      if (names.length > 0) await client.removeObjects(bucket, names);
      for await (const upload of client.listIncompleteUploads(bucket, '', true)) {
        await client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
      }
      await client.removeBucket(bucket);
    },
  };
}

/**
 * A stream of `size` random bytes in 64 KiB chunks, made as it is read; it records how much it produced, the
 * SHA-256 of what it produced and, if asked, samples live memory every `sampleEvery` bytes.
 */
function generated(size: number, options: { sampleEvery?: number; failAfter?: number } = {}) {
  const hash = createHash('sha256');
  const state = { produced: 0, peak: { heap: 0, total: 0 }, stream: undefined as unknown as Readable };
  state.stream = new Readable({
    read() {
      if (options.failAfter !== undefined && state.produced >= options.failAfter) {
        this.destroy(new Error('the client went away'));
        return;
      }
      if (state.produced >= size) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(64 * 1024, size - state.produced));
      const before = state.produced;
      state.produced += chunk.length;
      hash.update(chunk);
      if (
        options.sampleEvery !== undefined &&
        Math.floor(before / options.sampleEvery) !== Math.floor(state.produced / options.sampleEvery)
      ) {
        const now = liveMemory();
        state.peak = { heap: Math.max(state.peak.heap, now.heap), total: Math.max(state.peak.total, now.total) };
      }
      this.push(chunk);
    },
  });
  return {
    get stream() {
      return state.stream;
    },
    get produced() {
      return state.produced;
    },
    /** The highest live memory sampled while streaming. */
    get peakMemory() {
      return state.peak;
    },
    sha256: () => hash.copy().digest('hex'),
  };
}

/** Live memory after a full collection: the JS heap, and the heap plus Buffer memory (which lives outside it). */
function liveMemory(): { heap: number; total: number } {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return { heap: heapUsed, total: heapUsed + external };
}

async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

async function sha256Of(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.each([{ fixture: localFixture() }, { fixture: s3Fixture() }])(
  'ObjectStore ($fixture.driver)',
  ({ fixture }) => {
    let store: ObjectStore;
    const userId = randomUUID();
    const key = () => objectKeyFor(userId, randomUUID());

    beforeAll(async () => {
      store = await fixture.setUp();
      expect(await fixture.containerExists()).toBe(false);
      await store.ensureReady();
    });

    afterAll(async () => {
      await fixture.tearDown();
    });

    it('has created its bucket or directory in ensureReady, and a second call keeps what is stored', async () => {
      expect(store.driver).toBe(fixture.driver);
      expect(await fixture.containerExists()).toBe(true);
      const k = key();
      await store.put(k, Readable.from([Buffer.from('kept')]), { maxBytes: 10 });

      await store.ensureReady();

      expect(await fixture.containerExists()).toBe(true);
      expect((await readAll(await store.get(k))).toString()).toBe('kept');
    });

    it('gives back the bytes it was given, with their size and SHA-256', async () => {
      const bytes = randomBytes(300 * 1024 + 7);
      const k = key();

      const result = await store.put(k, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), {
        maxBytes: 1 * MiB,
        contentType: 'text/plain',
      });

      expect(result).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect(await store.stat(k)).toEqual({ size: bytes.length });
      expect((await readAll(await store.get(k))).equals(bytes)).toBe(true);
    });

    it('skips the hash when asked (sha256: false), still counting and limiting', async () => {
      const bytes = randomBytes(70 * 1024);
      const k = key();
      const result = await store.put(k, Readable.from([bytes]), { maxBytes: bytes.length, sha256: false });
      expect(result).toEqual({ size: bytes.length, sha256: '' });
      expect((await readAll(await store.get(k))).equals(bytes)).toBe(true);
      await expect(
        store.put(key(), Readable.from([bytes]), { maxBytes: bytes.length - 1, sha256: false }),
      ).rejects.toBeInstanceOf(ObjectTooLargeError);
    });

    it('replaces an object on a second put to the same key', async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from('first version')]), { maxBytes: 100 });
      await store.put(k, Readable.from([Buffer.from('second')]), { maxBytes: 100 });
      expect((await readAll(await store.get(k))).toString()).toBe('second');
      expect(await store.stat(k)).toEqual({ size: 6 });
    });

    it('stat of a missing key is null and get of it fails with ObjectNotFoundError', async () => {
      const k = key();
      expect(await store.stat(k)).toBeNull();
      await expect(store.get(k)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('stops a 30 MiB upload with ObjectTooLargeError soon after 25 MiB and leaves nothing behind', async () => {
      const k = key();
      const body = generated(30 * MiB);

      const failure: unknown = await store.put(k, body.stream, { maxBytes: 25 * MiB }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(ObjectTooLargeError);
      expect((failure as ObjectTooLargeError).maxBytes).toBe(25 * MiB);
      expect(body.stream.destroyed).toBe(true);
      expect(body.produced).toBeLessThan(26 * MiB); // not read to its end
      expect(await store.stat(k)).toBeNull();
      expect(await fixture.leftovers()).toEqual([]);
    });

    it('refuses one byte over a small limit before anything is stored', async () => {
      const k = key();
      await expect(store.put(k, Readable.from([Buffer.alloc(11, 1)]), { maxBytes: 10 })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );
      expect(await store.stat(k)).toBeNull();
      expect(await fixture.leftovers()).toEqual([]);
    });

    it('stores an upload of exactly maxBytes (25 MiB, five whole multipart parts)', async () => {
      const k = key();
      const body = generated(25 * MiB);

      const result = await store.put(k, body.stream, { maxBytes: 25 * MiB });

      expect(result).toEqual({ size: 25 * MiB, sha256: body.sha256() });
      expect(await store.stat(k)).toEqual({ size: 25 * MiB });
      expect(await sha256Of(await store.get(k))).toEqual({ size: 25 * MiB, sha256: body.sha256() });
    });

    it('refuses an empty upload with EmptyObjectError and leaves nothing behind', async () => {
      const k = key();
      await expect(store.put(k, Readable.from([]), { maxBytes: 10 })).rejects.toBeInstanceOf(EmptyObjectError);
      expect(await store.stat(k)).toBeNull();
      expect(await fixture.leftovers()).toEqual([]);
    });

    it('fails with the body’s own error when the body breaks mid-upload, and leaves nothing behind', async () => {
      const k = key();
      const body = generated(20 * MiB, { failAfter: 12 * MiB }); // two whole parts sent, the third under way

      await expect(store.put(k, body.stream, { maxBytes: 25 * MiB })).rejects.toThrow('the client went away');

      expect(await store.stat(k)).toBeNull();
      expect(await fixture.leftovers()).toEqual([]);
    });

    it('keeps the previous object when a put to its key fails', async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from('the good version')]), { maxBytes: 10 * MiB });

      await expect(store.put(k, generated(11 * MiB).stream, { maxBytes: 10 * MiB })).rejects.toBeInstanceOf(
        ObjectTooLargeError,
      );

      expect((await readAll(await store.get(k))).toString()).toBe('the good version');
      expect(await fixture.leftovers()).toEqual([]);
    });

    it('streams: a 50 MiB upload never holds the upload in memory', async () => {
      const k = key();
      const baseline = liveMemory();
      const body = generated(50 * MiB, { sampleEvery: 2 * MiB });

      const result = await store.put(k, body.stream, { maxBytes: 60 * MiB });

      expect(result).toEqual({ size: 50 * MiB, sha256: body.sha256() });
      expect(body.peakMemory.total).toBeGreaterThan(0);
      expect(body.peakMemory.heap - baseline.heap).toBeLessThan(20 * MiB);
      // Buffers live outside the JS heap, so the heap alone would not notice an upload buffered whole (>= 50 MiB
      // here). The S3 driver legitimately holds a few 5 MiB multipart parts at once (measured up to ~23 MiB).
      expect(body.peakMemory.total - baseline.total).toBeLessThan(30 * MiB);
    });

    it('delete removes an object and is idempotent', async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from('bye')]), { maxBytes: 10 });

      await store.delete(k);
      expect(await store.stat(k)).toBeNull();
      await expect(store.delete(k)).resolves.toBeUndefined();
      await expect(store.delete(key())).resolves.toBeUndefined();
    });

    it('deletePrefix refuses the empty prefix, which would match everything', async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from('still here')]), { maxBytes: 100 });
      await expect(store.deletePrefix('')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      expect(await store.stat(k)).toEqual({ size: 10 });
    });

    it('deletePrefix removes exactly the objects under the prefix and any upload in progress there', async () => {
      const owner = randomUUID();
      const other = randomUUID();
      const owned = [objectKeyFor(owner, randomUUID()), objectKeyFor(owner, randomUUID()), `users/${owner}/avatar`];
      const kept = [objectKeyFor(other, randomUUID()), `users/${owner}-archive/files/1`];
      for (const k of [...owned, ...kept]) await store.put(k, Readable.from([Buffer.from(k)]), { maxBytes: 1000 });
      await fixture.abandonUpload(objectKeyFor(owner, randomUUID()));

      expect(await store.deletePrefix(userPrefixFor(owner))).toBe(3);

      for (const k of owned) expect(await store.stat(k)).toBeNull();
      for (const k of kept) expect((await readAll(await store.get(k))).toString()).toBe(k);
      expect(await fixture.leftovers()).toEqual([]);
      expect(await store.deletePrefix(userPrefixFor(owner))).toBe(0);
    });

    it.each([
      '../escape',
      'users/../../escape',
      '/etc/passwd',
      'users\\..\\escape',
      'users/a\0b',
      '',
      'users//files',
      '.hidden',
      'users/./files',
    ])('refuses the key %j everywhere, touching nothing', async (badKey) => {
      const body = Readable.from([Buffer.from('x')]);
      await expect(store.put(badKey, body, { maxBytes: 10 })).rejects.toBeInstanceOf(InvalidObjectKeyError);
      expect(body.destroyed).toBe(true);
      await expect(store.get(badKey)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.stat(badKey)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.delete(badKey)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.deletePrefix(badKey)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      expect(await fixture.leftovers()).toEqual([]);
    });
  },
);

describe('LocalDirectoryStore files', () => {
  it('are readable and writable by the owner only', async () => {
    const root = await mkdtemp(join(tmpdir(), 'object-store-mode-'));
    try {
      const store = new LocalDirectoryStore(root);
      const k = objectKeyFor(randomUUID(), randomUUID());
      await store.put(k, Readable.from([Buffer.from('secret')]), { maxBytes: 10 });
      expect((await statPath(join(root, k))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('objectKeyFor', () => {
  it('builds users/<userId>/files/<fileId> from two UUIDs, in lower case', () => {
    const userId = randomUUID();
    const fileId = randomUUID();
    expect(objectKeyFor(userId.toUpperCase(), fileId)).toBe(`users/${userId}/files/${fileId}`);
    expect(userPrefixFor(userId)).toBe(`users/${userId}/`);
  });

  it.each(['../../etc', 'report.pdf', '', `${randomUUID()}/x`, `${randomUUID()} `])(
    'refuses %j as an id',
    (notAUuid) => {
      expect(() => objectKeyFor(notAUuid, randomUUID())).toThrow(InvalidObjectKeyError);
      expect(() => objectKeyFor(randomUUID(), notAUuid)).toThrow(InvalidObjectKeyError);
    },
  );
});

describe('createObjectStore', () => {
  it('uses the local directory when no S3 endpoint is configured', () => {
    expect(createObjectStore({ localDir: tmpdir() }).driver).toBe('local');
  });

  it('uses S3 when an endpoint is configured', () => {
    const s3 = { endPoint: S3_ENDPOINT, accessKey: 'a', secretKey: 'b', bucket: 'files', region: S3_REGION };
    expect(createObjectStore({ s3, localDir: tmpdir() }).driver).toBe('s3');
  });
});
