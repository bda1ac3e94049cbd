import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStore, PutObjectOptions, PutObjectResult } from '#libs/storage/object-store';
import { EmptyObjectError, ObjectNotFoundError, ObjectTooLargeError } from '#libs/storage/object-store.errors';

/** An ObjectStore in memory with the real stores' contract (all-or-nothing puts, the same errors), for unit specs. */
export class InMemoryObjectStore implements ObjectStore {
  readonly driver = 'local' as const;
  readonly objects = new Map<string, Buffer>();

  ensureReady(): Promise<void> {
    return Promise.resolve();
  }

  checkReady(): Promise<void> {
    return Promise.resolve();
  }

  async put(key: string, body: Readable, opts: PutObjectOptions): Promise<PutObjectResult> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const part of body) {
      const buffer = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array);
      size += buffer.length;
      if (size > opts.maxBytes) {
        body.destroy();
        throw new ObjectTooLargeError(opts.maxBytes);
      }
      parts.push(buffer);
    }
    if (size === 0) throw new EmptyObjectError();
    const bytes = Buffer.concat(parts, size);
    this.objects.set(key, bytes);
    return { size, sha256: opts.sha256 === false ? '' : createHash('sha256').update(bytes).digest('hex') };
  }

  get(key: string): Promise<Readable> {
    const bytes = this.objects.get(key);
    return bytes ? Promise.resolve(Readable.from([bytes])) : Promise.reject(new ObjectNotFoundError(key));
  }

  stat(key: string): Promise<{ size: number } | null> {
    const bytes = this.objects.get(key);
    return Promise.resolve(bytes ? { size: bytes.length } : null);
  }

  delete(key: string): Promise<void> {
    this.objects.delete(key);
    return Promise.resolve();
  }

  deletePrefix(prefix: string): Promise<number> {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix));
    for (const key of keys) this.objects.delete(key);
    return Promise.resolve(keys.length);
  }
}
