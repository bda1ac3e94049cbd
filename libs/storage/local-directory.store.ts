import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, lstat, mkdir, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { assertValidObjectKey, assertValidObjectPrefix } from './object-key';
import type { ObjectStore, PutObjectOptions, PutObjectResult } from './object-store';
import { InvalidObjectKeyError, ObjectNotFoundError } from './object-store.errors';
import { SizeLimitedHashTransform } from './size-limited-hash.transform';

/** `.<name>.<uuid>.tmp`: the leading dot keeps temp files out of the key space (no key segment starts with one). */
const TEMP_SUFFIX_LENGTH = '.00000000-0000-0000-0000-000000000000.tmp'.length;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * The embedded object store: one file per object under `rootDir`, at the key's path. A put streams into a temp file
 * in the target's directory, fsyncs it, renames it over the target (atomic) and fsyncs the directory, so a reader or
 * a crash sees the old object or the new one, never a mix. A key that is both an object and a "directory" of other
 * keys (`a` and `a/b`) cannot exist here, unlike S3; `objectKeyFor` keys never need that.
 */
export class LocalDirectoryStore implements ObjectStore {
  readonly driver = 'local';
  readonly #root: string;

  constructor(rootDir: string) {
    this.#root = resolve(rootDir);
  }

  async ensureReady(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: DIR_MODE });
  }

  async checkReady(): Promise<void> {
    await access(this.#root, constants.R_OK | constants.W_OK);
  }

  async put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult> {
    let target: string;
    let meter: SizeLimitedHashTransform;
    try {
      target = this.#pathOf(key);
      meter = new SizeLimitedHashTransform(opts.maxBytes, { hash: opts.sha256 !== false });
    } catch (error) {
      body.destroy();
      throw error;
    }
    const dir = dirname(target);
    const temp = join(dir, `.${basename(target)}.${randomUUID()}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      // `flush` fsyncs the file before it is closed; `wx` never follows or reuses an existing path.
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', mode: FILE_MODE, flush: true }));
      await rename(temp, target);
    } catch (error) {
      body.destroy();
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(dir);
    return { size: meter.bytes, sha256: meter.sha256 };
  }

  async get(key: string): Promise<Readable> {
    const file = this.#pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key, { cause: error });
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) throw new ObjectNotFoundError(key);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle.createReadStream(); // closes the handle when it ends or is destroyed
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const file = this.#pathOf(key);
    try {
      const stats = await lstat(file);
      return stats.isFile() ? { size: stats.size } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.#pathOf(key);
    try {
      await unlink(file);
    } catch (error) {
      // EISDIR/EPERM: the key names a directory of other keys, so there is no object to remove.
      if (isMissing(error) || hasCode(error, 'EISDIR') || hasCode(error, 'EPERM')) return;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidObjectPrefix(prefix);
    // Start in the deepest directory the prefix names completely; only keys below it can match.
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash === -1 ? '' : prefix.slice(0, slash);
    const removed = await this.#deleteUnder(baseKey, prefix);
    if (baseKey !== '' && `${baseKey}/`.startsWith(prefix)) await removeEmptyDirectory(join(this.#root, baseKey));
    return removed;
  }

  /** Deletes the objects (and temp files of puts) under directory `dirKey` whose keys start with `prefix`. */
  async #deleteUnder(dirKey: string, prefix: string): Promise<number> {
    const dir = dirKey === '' ? this.#root : join(this.#root, dirKey);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    let removed = 0;
    for (const entry of entries) {
      const entryKey = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!`${entryKey}/`.startsWith(prefix)) continue;
        removed += await this.#deleteUnder(entryKey, prefix);
        await removeEmptyDirectory(join(dir, entry.name));
      } else if (entry.isFile()) {
        const isTemp = entry.name.startsWith('.');
        const objectKey = isTemp ? tempFileKey(dirKey, entry.name) : entryKey;
        if (objectKey === undefined || !objectKey.startsWith(prefix)) continue;
        await rm(join(dir, entry.name), { force: true });
        if (!isTemp) removed += 1;
      }
    }
    return removed;
  }

  /** The file of `key`, after checking the key's format and that it resolves inside the root. */
  #pathOf(key: string): string {
    assertValidObjectKey(key);
    const file = resolve(this.#root, key);
    const inside = relative(this.#root, file);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new InvalidObjectKeyError('the key resolves outside the store');
    }
    return file;
  }
}

/** The key a temp file `.<name>.<uuid>.tmp` in directory `dirKey` is being written for, if it is one of ours. */
function tempFileKey(dirKey: string, fileName: string): string | undefined {
  if (!fileName.endsWith('.tmp') || fileName.length <= 1 + TEMP_SUFFIX_LENGTH) return undefined;
  const name = fileName.slice(1, -TEMP_SUFFIX_LENGTH);
  return dirKey === '' ? name : `${dirKey}/${name}`;
}

/** Makes a rename in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeEmptyDirectory(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (error) {
    if (!isMissing(error) && !hasCode(error, 'ENOTEMPTY') && !hasCode(error, 'EEXIST')) throw error;
  }
}

/** ENOTDIR: a component of the path is a file, so nothing can be stored below it. */
function isMissing(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR');
}

function hasCode(error: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from another realm (a vm context, Jest's sandbox) fail that test.
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
