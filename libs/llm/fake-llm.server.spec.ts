import OpenAI from 'openai';

import { startFakeLlm, type FakeLlm } from '../../test/fakes/fake-llm.server';

/** The fake LLM server itself, driven through the real SDK (it is what the provider tests stand on). */
describe('fake LLM server', () => {
  let fake: FakeLlm;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeLlm({ embeddingDimensions: 32 });
    client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-fake', maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('serves deterministic, normalised embeddings for a batch', async () => {
    const texts = ['refund policy for orders', 'the refund policy', 'express shipping worldwide'];
    const first = await client.embeddings.create({ model: 'fake-embedding', input: texts });
    const again = await client.embeddings.create({ model: 'fake-embedding', input: texts[0] ?? '' });

    expect(first.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const vectors = first.data.map((d) => d.embedding);
    for (const v of vectors) {
      expect(v).toHaveLength(32);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    expect(again.data[0]?.embedding).toEqual(vectors[0]);
    // Texts sharing words are closer than texts that share none.
    const [refund, alsoRefund, shipping] = vectors as [number[], number[], number[]];
    expect(dot(refund, alsoRefund)).toBeGreaterThan(dot(refund, shipping));
    expect(first.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('gives the same numbers as floats and as base64 (the SDK default), and honours dimensions', async () => {
    const asBase64 = await client.embeddings.create({ model: 'm', input: 'hello world', dimensions: 8 });
    const asFloat = await client.embeddings.create({
      model: 'm',
      input: 'hello world',
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: 'base64' });
    expect(asBase64.data[0]?.embedding).toHaveLength(8);
    expect(asBase64.data[0]?.embedding).toEqual(asFloat.data[0]?.embedding);
  });

  it('lists models', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(['fake-chat', 'fake-embedding']);
    await expect(client.models.retrieve('fake-chat')).resolves.toMatchObject({ id: 'fake-chat' });
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('answers a non-streaming completion with usage', async () => {
    fake.reply = (messages) => `You said ${messages.length} things`;
    const completion = await client.chat.completions.create({
      model: 'fake-chat',
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('You said 2 things');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(4);
  });

  it('streams chunks and sends a usage chunk only when asked', async () => {
    const withoutUsage = await client.chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'a b' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of withoutUsage) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: a b');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);

    const withUsage = await client.chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'a b' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let last;
    for await (const chunk of withUsage) last = chunk;
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ completion_tokens: 3 });
  });

  it('answers per model (echo for any model but a few), and judges a judge prompt by length', async () => {
    const ask = async (model: string, messages: { role: 'system' | 'user' | 'assistant'; content: string }[]) =>
      (await client.chat.completions.create({ model, messages })).choices[0]?.message.content;
    const question = [{ role: 'user' as const, content: 'how are you today' }];
    expect(await ask('fake-model', question)).toBe('Echo: how are you today');
    expect(await ask('backup-model', question)).toBe('Echo: how are you today');
    expect(await ask('fake-verbose', question)).toBe('Echo: how are you today In more detail: how are you today');
    expect(await ask('fake-terse', question)).toBe('how');
    expect(await ask('fake-refuser', question)).toBe("I'm sorry, but I can't help with that.");
    expect(await ask('fake-recall', question)).toBe('Echo: how are you today (after: nothing)');
    expect(
      await ask('fake-recall', [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'first reply' },
        ...question,
      ]),
    ).toBe('Echo: how are you today (after: first reply)');
    const judge = (a: string, b: string) =>
      ask('any-model', [
        { role: 'system', content: 'You are an impartial judge comparing two answers to the same user message.' },
        { role: 'user', content: `[User message]\nwhy?\n\n[Answer A]\n${a}\n\n[Answer B]\n${b}` },
      ]);
    expect(JSON.parse((await judge('short', 'much longer'))!)).toEqual({
      winner: 'B',
      reason: 'Answer B is more complete.',
    });
    expect(JSON.parse((await judge('a longer one\non two lines', 'short'))!)).toMatchObject({ winner: 'A' });
    expect(JSON.parse((await judge('same', 'same'))!)).toMatchObject({ winner: 'tie' });
  });

  it('rejects a request without a model as OpenAI does', async () => {
    await expect(
      client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] } as never),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('checks the API key when one is configured', async () => {
    fake.apiKey = 'sk-right';
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
    const right = new OpenAI({ baseURL: fake.url, apiKey: 'sk-right', maxRetries: 0 });
    await expect(right.embeddings.create({ model: 'm', input: 'x' })).resolves.toBeDefined();
  });

  it('plays scripted failures in order, then behaves again', async () => {
    fake.failNext(1, 429);
    fake.failNext(1, 500, { error: { message: 'custom outage' } });
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 429 });
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).rejects.toMatchObject({
      status: 500,
      message: expect.stringContaining('custom outage'),
    });
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).resolves.toBeDefined();
  });

  it('sends Retry-After: 1 with a 429 unless told otherwise, in any header case', async () => {
    fake.failNext(1, 429);
    fake.failNext(1, 429, undefined, { 'Retry-After': '0' });
    await expect(client.models.list()).resolves.toBeDefined(); // GET requests are never scripted
    const first = await client.embeddings.create({ model: 'm', input: 'x' }).catch((e: unknown) => e);
    const second = await client.embeddings.create({ model: 'm', input: 'x' }).catch((e: unknown) => e);
    expect(first).toMatchObject({ status: 429 });
    expect((first as { headers: Headers }).headers.get('retry-after')).toBe('1');
    expect((second as { headers: Headers }).headers.get('retry-after')).toBe('0');
  });

  it('closes promptly while a request hangs', async () => {
    const other = await startFakeLlm();
    other.hangNext();
    const otherClient = new OpenAI({ baseURL: other.url, apiKey: 'k', maxRetries: 0 });
    const pending = otherClient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    pending.catch(() => undefined);
    await waitFor(() => other.requests.length === 1);

    await other.close();

    await expect(pending).rejects.toThrow();
    expect(other.requests[0]?.aborted).toBe(true);
  });
});

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
