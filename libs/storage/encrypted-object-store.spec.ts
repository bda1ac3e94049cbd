import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  EncryptedObjectStore,
  ENCRYPTED_OBJECT_MAGIC,
  FRAME_BYTES,
  KEY_OBJECT_MAGIC,
  keyObjectKeyFor,
  ObjectDecryptionError,
} from './encrypted-object-store';
import { objectKeyFor } from './object-key';
import { EmptyObjectError, ObjectTooLargeError } from './object-store.errors';
import { SealTransform } from './sealed-object';
import { InMemoryObjectStore } from './testing/in-memory-object-store';

const master = (id: string) => ({ id, key: randomBytes(32) });
const key = () => objectKeyFor(randomUUID(), randomUUID());
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A body in small uneven chunks, as a network upload arrives. */
const body = (bytes: Buffer, chunk = 7_777) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
    })(),
  );

/** Hands the stored bytes back in chunks of `chunk` bytes, as an S3 response streams them. */
class ChunkedReads extends InMemoryObjectStore {
  chunk = 1;
  /** Each chunk a turn of the event loop after the one before, as from a socket, so readers keep up. */
  spread = false;
  override async get(at: string): Promise<Readable> {
    await super.get(at);
    const bytes = this.objects.get(at)!;
    if (!this.spread) return body(bytes, this.chunk);
    const chunk = this.chunk;
    return Readable.from(
      (async function* () {
        for (let at = 0; at < bytes.length; at += chunk) {
          await new Promise((resolve) => setImmediate(resolve));
          yield bytes.subarray(at, at + chunk);
        }
      })(),
    );
  }
}

describe('EncryptedObjectStore', () => {
  const sizes = [1, 100, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 3 * FRAME_BYTES, 3 * FRAME_BYTES + 12_345];

  it.each(sizes)('stores %i bytes sealed (no plaintext, magic first) and reads them back exactly', async (size) => {
    const inner = new InMemoryObjectStore();
    const store = new EncryptedObjectStore(inner, [master('m1')]);
    const plain = Buffer.from(Array.from({ length: size }, (_, i) => 'The quick brown fox '[i % 20]!).join(''));
    const at = key();
    const put = await store.put(at, body(plain), { maxBytes: size });
    expect(put).toEqual({ size, sha256: sha256(plain) });
    const stored = inner.objects.get(at)!;
    expect(stored.subarray(0, ENCRYPTED_OBJECT_MAGIC.length).equals(ENCRYPTED_OBJECT_MAGIC)).toBe(true);
    if (size >= 20) expect(stored.includes('quick brown fox')).toBe(false);
    expect((await buffer(await store.get(at))).equals(plain)).toBe(true);
    expect(await store.stat(at)).toEqual({ size });
    expect(await store.stat(key())).toBeNull();
  });

  it('opens a sealed object however the stored bytes arrive: byte by byte, across frame edges, all at once', async () => {
    const inner = new ChunkedReads();
    const store = new EncryptedObjectStore(inner, [master('m1')]);
    const plain = randomBytes(2 * FRAME_BYTES + 999);
    const at = key();
    await store.put(at, body(plain), { maxBytes: plain.length });
    for (const chunk of [1, 15, 16, 17, 4_096, FRAME_BYTES + 15, FRAME_BYTES + 16, FRAME_BYTES + 17, 1 << 20]) {
      inner.chunk = chunk;
      expect([chunk, (await buffer(await store.get(at))).equals(plain)]).toEqual([chunk, true]);
    }
  });

  it('reads clear objects stored before encryption as they are', async () => {
    const inner = new InMemoryObjectStore();
    const at = key();
    const clear = Buffer.from('%PDF-1.7 an old clear upload');
    await inner.put(at, Readable.from([clear]), { maxBytes: 1000 });
    const store = new EncryptedObjectStore(inner, [master('m1')]);
    expect((await buffer(await store.get(at))).equals(clear)).toBe(true);
    expect(await store.stat(at)).toEqual({ size: clear.length });
    const short = key();
    await inner.put(short, Readable.from([Buffer.from('GC')]), { maxBytes: 10 }); // shorter than the magic
    expect((await buffer(await store.get(short))).toString()).toBe('GC');
  });

  it('keeps the limit and the empty-body refusal on the plaintext', async () => {
    const store = new EncryptedObjectStore(new InMemoryObjectStore(), [master('m1')]);
    await expect(store.put(key(), body(randomBytes(1001)), { maxBytes: 1000 })).rejects.toBeInstanceOf(
      ObjectTooLargeError,
    );
    await expect(store.put(key(), Readable.from([]), { maxBytes: 1000 })).rejects.toBeInstanceOf(EmptyObjectError);
    const exactly = randomBytes(FRAME_BYTES * 2);
    expect((await store.put(key(), body(exactly), { maxBytes: exactly.length })).size).toBe(exactly.length);
  });

  it('rotates: new objects under the first master key, older ones still open while their key is listed', async () => {
    const inner = new InMemoryObjectStore();
    const old = master('old');
    const at = key();
    await new EncryptedObjectStore(inner, [old]).put(at, body(Buffer.from('sealed under old')), { maxBytes: 100 });
    const rotated = new EncryptedObjectStore(inner, [master('new'), old]);
    expect((await buffer(await rotated.get(at))).toString()).toBe('sealed under old');
    const fresh = key();
    await rotated.put(fresh, body(Buffer.from('sealed under new')), { maxBytes: 100 });
    expect(
      inner.objects
        .get(fresh)!
        .subarray(ENCRYPTED_OBJECT_MAGIC.length + 1, ENCRYPTED_OBJECT_MAGIC.length + 4)
        .toString(),
    ).toBe('new');
    const retired = new EncryptedObjectStore(inner, [master('new')]);
    await expect(buffer(await retired.get(at))).rejects.toThrow(/master key "old".*FILES_ENCRYPTION_KEYS/);
  });

  it('refuses altered, cut short, reordered or relocated objects', async () => {
    const inner = new InMemoryObjectStore();
    const store = new EncryptedObjectStore(inner, [master('m1')]);
    const at = key();
    const plain = randomBytes(2 * FRAME_BYTES + 10);
    await store.put(at, body(plain), { maxBytes: plain.length });
    const stored = inner.objects.get(at)!;
    const header = stored.length - (plain.length + 3 * 16);
    const reread = async (bytes: Buffer, where = at) => {
      inner.objects.set(where, bytes);
      return buffer(await store.get(where));
    };
    const flipped = Buffer.from(stored);
    flipped[header + 5] = flipped[header + 5]! ^ 1;
    await expect(reread(flipped)).rejects.toBeInstanceOf(ObjectDecryptionError);
    // Cut at a frame boundary: the frame before is not flagged as the last, so the end is noticed.
    await expect(reread(stored.subarray(0, header + FRAME_BYTES + 16))).rejects.toThrow(/does not authenticate/);
    await expect(reread(stored.subarray(0, header - 3))).rejects.toThrow(/truncated/);
    const frame = FRAME_BYTES + 16;
    const swapped = Buffer.concat([
      stored.subarray(0, header),
      stored.subarray(header + frame, header + 2 * frame),
      stored.subarray(header, header + frame),
      stored.subarray(header + 2 * frame),
    ]);
    await expect(reread(swapped)).rejects.toBeInstanceOf(ObjectDecryptionError);
    // Another user's key: the wrapped data key is bound to where the object lives.
    await expect(reread(Buffer.from(stored), key())).rejects.toThrow(/data key does not authenticate/);
    expect((await reread(stored)).equals(plain)).toBe(true);
  });

  it('streams the frames before one that does not authenticate, then fails the read with it', async () => {
    const inner = new ChunkedReads();
    inner.chunk = 4_096;
    inner.spread = true;
    const store = new EncryptedObjectStore(inner, [master('m1')]);
    const at = key();
    const plain = randomBytes(3 * FRAME_BYTES);
    await store.put(at, body(plain), { maxBytes: plain.length });
    const stored = Buffer.from(inner.objects.get(at)!);
    const header = stored.length - (plain.length + 3 * 16);
    // A bit of the second frame's ciphertext, well inside it.
    stored[header + FRAME_BYTES + 16 + 1000] = stored[header + FRAME_BYTES + 16 + 1000]! ^ 1;
    inner.objects.set(at, stored);
    const received: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of await store.get(at)) received.push(chunk as Buffer);
    })();
    await expect(read).rejects.toThrow(/does not authenticate/);
    expect(Buffer.concat(received).length).toBe(FRAME_BYTES);
    expect(Buffer.concat(received).equals(plain.subarray(0, FRAME_BYTES))).toBe(true);
  });

  it.each([1, 64 * 1024, 3 * 64 * 1024 + 5])(
    'opens and sizes an object of %i bytes sealed in the 64 KiB frames of before, while new ones get 256 KiB frames',
    async (size) => {
      const inner = new InMemoryObjectStore();
      const keys = [master('a')];
      const at = key();
      const plain = randomBytes(size);
      const old = new SealTransform({ currentId: 'a', byId: new Map([['a', keys[0]!.key]]) }, at, 64 * 1024);
      inner.objects.set(at, await buffer(body(plain).pipe(old)));
      const store = new EncryptedObjectStore(inner, keys);
      expect((await buffer(await store.get(at))).equals(plain)).toBe(true);
      expect(await store.stat(at)).toEqual({ size });

      const fresh = key();
      await store.put(fresh, body(plain), { maxBytes: size });
      const frames = Math.max(1, Math.ceil(size / FRAME_BYTES));
      expect(inner.objects.get(fresh)!.length - inner.objects.get(at)!.length).toBe(
        (frames - Math.max(1, Math.ceil(size / (64 * 1024)))) * 16,
      );
      expect(await store.stat(fresh)).toEqual({ size });
    },
  );

  describe('re-wrapping for rotation', () => {
    const plain = randomBytes(FRAME_BYTES + 500);
    async function sealedUnder(inner: InMemoryObjectStore, keys: ReturnType<typeof master>[]) {
      const at = key();
      await new EncryptedObjectStore(inner, keys).put(at, body(plain), { maxBytes: plain.length });
      return at;
    }

    it('re-wraps the data key beside the object, leaves its bytes alone, and lets the old key retire', async () => {
      const inner = new InMemoryObjectStore();
      const [a, b, c] = [master('a'), master('b'), master('c')];
      const at = await sealedUnder(inner, [a]);
      const bytes = Buffer.from(inner.objects.get(at)!);

      expect(await new EncryptedObjectStore(inner, [b, a]).rewrap(at)).toBe('rewrapped');
      expect(inner.objects.get(at)!.equals(bytes)).toBe(true);
      const keyObject = inner.objects.get(keyObjectKeyFor(at))!;
      expect(keyObject.subarray(0, KEY_OBJECT_MAGIC.length).equals(KEY_OBJECT_MAGIC)).toBe(true);
      expect(keyObject.includes(plain.subarray(0, 16))).toBe(false);
      expect(await new EncryptedObjectStore(inner, [b, a]).rewrap(at)).toBe('current'); // nothing left to do

      // a retired: b opens it through the key object. Then b retires too, after a re-wrap under c.
      expect((await buffer(await new EncryptedObjectStore(inner, [b]).get(at))).equals(plain)).toBe(true);
      expect(await new EncryptedObjectStore(inner, [c, b]).rewrap(at)).toBe('rewrapped');
      const onlyC = new EncryptedObjectStore(inner, [c]);
      expect((await buffer(await onlyC.get(at))).equals(plain)).toBe(true);
      expect(await onlyC.stat(at)).toEqual({ size: plain.length });
      expect(inner.objects.get(at)!.equals(bytes)).toBe(true);

      // Without the key object, c alone cannot open it; deleting the object takes the key object too.
      await expect(buffer(await new EncryptedObjectStore(inner, [master('d')]).get(at))).rejects.toThrow(
        /master key "a" \(re-wrapped with "c"\), which is not in FILES_ENCRYPTION_KEYS/,
      );
      await onlyC.delete(at);
      expect(inner.objects.has(at)).toBe(false);
      expect(inner.objects.has(keyObjectKeyFor(at))).toBe(false);
    });

    it('a key object moved beside another object does not open it', async () => {
      const inner = new InMemoryObjectStore();
      const [a, b] = [master('a'), master('b')];
      const first = await sealedUnder(inner, [a]);
      const second = await sealedUnder(inner, [a]);
      await new EncryptedObjectStore(inner, [b, a]).rewrap(first);
      inner.objects.set(keyObjectKeyFor(second), inner.objects.get(keyObjectKeyFor(first))!);
      await expect(buffer(await new EncryptedObjectStore(inner, [b]).get(second))).rejects.toThrow(
        /data key does not authenticate/,
      );
      inner.objects.set(keyObjectKeyFor(second), Buffer.from('not a key object'));
      await expect(buffer(await new EncryptedObjectStore(inner, [b]).get(second))).rejects.toThrow(/malformed/);
    });

    it('refuses to re-wrap what no configured key opens, and leaves clear objects to reseal', async () => {
      const inner = new InMemoryObjectStore();
      const at = await sealedUnder(inner, [master('a')]);
      await expect(new EncryptedObjectStore(inner, [master('b')]).rewrap(at)).rejects.toThrow(/master key "a"/);
      expect(inner.objects.has(keyObjectKeyFor(at))).toBe(false);

      const clear = key();
      await inner.put(clear, Readable.from([plain]), { maxBytes: plain.length });
      const store = new EncryptedObjectStore(inner, [master('b')]);
      expect(await store.rewrap(clear)).toBe('clear');
      await store.reseal(clear);
      expect(inner.objects.get(clear)!.subarray(0, ENCRYPTED_OBJECT_MAGIC.length).equals(ENCRYPTED_OBJECT_MAGIC)).toBe(
        true,
      );
      expect(await store.rewrap(clear)).toBe('current');
      expect((await buffer(await store.get(clear))).equals(plain)).toBe(true);
    });

    it('reseal writes a new data key and drops the stale key object', async () => {
      const inner = new InMemoryObjectStore();
      const [a, b] = [master('a'), master('b')];
      const at = await sealedUnder(inner, [a]);
      await new EncryptedObjectStore(inner, [b, a]).rewrap(at);
      const store = new EncryptedObjectStore(inner, [b]);
      await store.reseal(at);
      expect(inner.objects.has(keyObjectKeyFor(at))).toBe(false);
      expect((await buffer(await store.get(at))).equals(plain)).toBe(true);
    });
  });
});
