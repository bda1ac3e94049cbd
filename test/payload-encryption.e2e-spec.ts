import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '#libs/temporal/encryption-codec';
import { payloadCodec } from '#libs/temporal/data-converter';
import { Harness, signUp, startHarness } from './support/harness';

/**
 * Every payload anywhere in a history (inputs, results, updates, memo, failures), found by its shape; search
 * attributes (Temporal must read those to index them) and the SDK's marker bookkeeping aside.
 */
function payloadsIn(value: unknown, found: Payload[] = [], path = ''): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    // The SDK's own bookkeeping on markers (patch ids; a local activity's seq, type and times) never meets the codec.
    if (!/markerRecordedEventAttributes\.details\.(data|patch-data)\./.test(path)) found.push(record);
    return found;
  }
  for (const [name, child] of Object.entries(record))
    if (name !== 'searchAttributes') payloadsIn(child, found, `${path}.${name}`);
  return found;
}

/** All the bytes of a history's events, as one buffer to search for plaintext. */
function allBytes(value: unknown, out: Buffer[] = []): Buffer[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value));
  else if (typeof value === 'string') out.push(Buffer.from(value, 'utf8'));
  else if (value !== null && typeof value === 'object') for (const child of Object.values(value)) allBytes(child, out);
  return out;
}

describe('Temporal payload encryption (real Temporal, fake LLM)', () => {
  let h: Harness;
  let raw: Client;
  let rawConnection: Connection;

  beforeAll(async () => {
    h = await startHarness('payloadcrypto');
    rawConnection = await Connection.connect({ address: h.config.temporal.address });
    // What anyone with access to Temporal (its database, the UI, the CLI) sees: a client without the codec.
    raw = new Client({ connection: rawConnection, namespace: h.config.temporal.namespace });
  });
  afterAll(async () => {
    await rawConnection?.close();
    await h?.close();
  });

  it('keeps a turn’s message and answer out of the history in clear; the codec opens every payload', async () => {
    const { auth, userId } = await signUp(h, 'cipher');
    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const secret = `Cardamom recipe ${Math.random().toString(36).slice(2)}`;
    const sent = await h.http
      .post(`/api/v1/conversations/${conversation.body.id}/messages`)
      .set('Authorization', auth)
      .send({ content: secret });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage.content).toBe(`Echo: ${secret}`);
    const workflowId = `turn:${sent.body.turnId}`;

    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const bytes = Buffer.concat(allBytes(history));
    expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes(`Echo: ${secret}`)).toBe(false);

    // Every payload is sealed, with the current key's id beside it.
    const payloads = payloadsIn(history);
    expect(payloads.length).toBeGreaterThan(5);
    const encodings = new Set(payloads.map((p) => Buffer.from(p.metadata!.encoding!).toString()));
    expect([...encodings]).toEqual([ENCRYPTED_ENCODING]);
    const keyIds = new Set(payloads.map((p) => Buffer.from(p.metadata![KEY_ID_METADATA]!).toString()));
    expect([...keyIds]).toEqual([h.config.temporal.payloadKeys[0]!.id]);

    // With the codec, the same history holds the answer: the bytes above were not merely missing.
    const opened = await payloadCodec(h.config.temporal).decode(payloads);
    const clear = Buffer.concat(opened.map((p) => Buffer.from(p.data ?? [])));
    expect(clear.includes(`Echo: ${secret}`)).toBe(true);
    // Rotation: with a new key first, the history sealed under the old one still opens while the old key is listed;
    // once it is dropped, the refusal names the missing key id.
    const newKey = { id: 'rotated', key: randomBytes(32) };
    const rotated = await payloadCodec({ payloadKeys: [newKey, ...h.config.temporal.payloadKeys] }).decode(payloads);
    expect(Buffer.concat(rotated.map((p) => Buffer.from(p.data ?? []))).includes(`Echo: ${secret}`)).toBe(true);
    await expect(payloadCodec({ payloadKeys: [newKey] }).decode(payloads)).rejects.toThrow(
      new RegExp(`key id "${h.config.temporal.payloadKeys[0]!.id}"`),
    );
    // The client with the codec reads the result as the API does.
    expect(await h.temporal.workflow.getHandle(workflowId).result()).toMatchObject({
      id: sent.body.assistantMessage.id,
      content: `Echo: ${secret}`,
    });
    // Without it, Temporal's own tools cannot read the result at all.
    await expect(raw.workflow.getHandle(workflowId).result()).rejects.toThrow();

    // Search attributes stay readable to Temporal (visibility queries) and hold ids only.
    const described = await raw.workflowService.describeWorkflowExecution({
      namespace: h.config.temporal.namespace,
      execution: { workflowId },
    });
    const attributes = described.workflowExecutionInfo?.searchAttributes?.indexedFields ?? {};
    const values = Object.fromEntries(
      Object.entries(attributes).map(([name, payload]) => [name, Buffer.from(payload.data ?? []).toString()]),
    );
    expect(Buffer.concat(allBytes(attributes)).includes(secret)).toBe(false);
    expect(values).toMatchObject({
      UserId: JSON.stringify(userId),
      ConversationId: JSON.stringify(conversation.body.id),
      TurnKind: JSON.stringify('chat'),
    });
  });
});
