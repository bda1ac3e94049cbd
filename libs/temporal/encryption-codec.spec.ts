import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA, PayloadDecryptionError } from './encryption-codec';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array(0)).toString('utf8');

describe('EncryptionCodec', () => {
  const answer = { content: 'The secret recipe is cardamom', tokens: 7 };
  const clear = defaultPayloadConverter.toPayload(answer);

  it('seals a payload so neither its data nor its encoding shows, and opens it back exactly', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const [sealed] = await codec.encode([clear]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Buffer.from(sealed!.data!).includes('cardamom')).toBe(false);
    expect(Buffer.from(sealed!.data!).includes('json/plain')).toBe(false);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(answer);
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('round-trips empty data, binary data and a payload without metadata', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const payloads: Payload[] = [
      defaultPayloadConverter.toPayload(undefined),
      defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
      { data: new Uint8Array([9, 9]) },
    ];
    const opened = await codec.decode(await codec.encode(payloads));
    expect(opened.map((payload) => Buffer.from(payload.data ?? []))).toEqual(
      payloads.map((payload) => Buffer.from(payload.data ?? [])),
    );
    expect(defaultPayloadConverter.fromPayload(opened[1]!)).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('uses a fresh IV for every payload: the same value never seals to the same bytes', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const [first, second] = await codec.encode([clear, clear]);
    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
  });

  it('never hands out an IV twice, across the batches it draws from the CSPRNG', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const sealed = await codec.encode(Array.from({ length: 1000 }, () => clear));
    const ivs = new Set(sealed.map((payload) => Buffer.from(payload.data!).subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(1000);
    // Each still opens: the IV in front of each payload is the one it was sealed with.
    const opened = await codec.decode(sealed);
    expect(
      opened.every((payload) => defaultPayloadConverter.fromPayload<typeof answer>(payload).content === answer.content),
    ).toBe(true);
  });

  it('passes clear payloads (histories recorded before encryption) through untouched', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    expect(await codec.decode([clear])).toEqual([clear]);
  });

  it('rotates: seals with the first key, opens what an older key sealed while that key is still listed', async () => {
    const old = key('old');
    const fresh = key('new');
    const [sealedByOld] = await new EncryptionCodec([old]).encode([clear]);
    const rotated = new EncryptionCodec([fresh, old]);
    const [sealedNow] = await rotated.encode([clear]);
    expect(text(sealedNow!.metadata![KEY_ID_METADATA])).toBe('new');
    const opened = await rotated.decode([sealedByOld!, sealedNow!]);
    expect(opened.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([answer, answer]);
  });

  it('refuses a payload whose key id is not configured, naming the id and the setting', async () => {
    const [sealed] = await new EncryptionCodec([key('retired')]).encode([clear]);
    const codec = new EncryptionCodec([key('k2')]);
    await expect(codec.decode([sealed!])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([sealed!])).rejects.toThrow(/key id "retired".*TEMPORAL_PAYLOAD_KEYS/);
  });

  it('detects tampering: a flipped ciphertext bit, a swapped key id, a truncated payload', async () => {
    const a = key('a');
    const b = { id: 'b', key: a.key };
    const codec = new EncryptionCodec([a, b]);
    const [sealed] = await codec.encode([clear]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data: flipped }])).rejects.toThrow(/does not authenticate/);
    // Same key bytes under another id: the id is authenticated data, so relabelling is caught too.
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not authenticate/);
    await expect(codec.decode([{ ...sealed!, data: Buffer.from(sealed!.data!).subarray(0, 10) }])).rejects.toThrow(
      /truncated/,
    );
  });

  it('refuses a wrong-sized key, a duplicate id and no key at all', () => {
    expect(() => new EncryptionCodec([])).toThrow(/at least one key/);
    expect(() => new EncryptionCodec([{ id: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new EncryptionCodec([key('x'), key('x')])).toThrow(/twice/);
  });
});
