import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  featureHashEmbedding,
  startFakeEmbeddings,
  type FakeEmbeddings,
} from '../../test/fakes/fake-embeddings.server';
import { EmbeddingClient, EmbeddingError } from './embedding-client';

describe('EmbeddingClient against the fake OpenAI embeddings server', () => {
  let fake: FakeEmbeddings;
  const secret = 'sk-very-secret-key-123';

  beforeAll(async () => {
    fake = await startFakeEmbeddings();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => fake.setFailure(undefined));

  const client = (options: Partial<ConstructorParameters<typeof EmbeddingClient>[0]> = {}) =>
    new EmbeddingClient({ baseUrl: fake.url, apiKey: secret, model: 'fake-embed', timeoutMs: 2000, ...options });

  it('returns one float vector per text, in input order, with the asked dimensions', async () => {
    const vectors = await client({ dimensions: 64 }).embed(['automobile repair', 'sourdough loaf']);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(vectors[0]).toHaveLength(64);
    expect(vectors[1]).toEqual(featureHashEmbedding('sourdough loaf', 64));
    expect(fake.requests.at(-1)).toMatchObject({ model: 'fake-embed', inputs: 2, dimensions: 64 });
    expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${secret}`);
    expect(await client().embed([])).toEqual([]);
  });

  it('gives synonyms the same direction and unrelated words another', () => {
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    const car = featureHashEmbedding('buy a car');
    expect(dot(car, featureHashEmbedding('purchasing automobiles'))).toBeCloseTo(1, 5);
    expect(dot(car, featureHashEmbedding('sourdough starter'))).toBeLessThan(0.3);
  });

  it('reports a server error as retryable and an auth failure as not, never with the key', async () => {
    fake.setFailure(500);
    const unavailable = await client()
      .embed(['x'])
      .catch((error: unknown) => error);
    expect(unavailable).toBeInstanceOf(EmbeddingError);
    expect(unavailable).toMatchObject({ code: 'embedding_unavailable', retryable: true, status: 500 });

    fake.setFailure(401);
    const refused = await client()
      .embed(['x'])
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'embedding_auth', retryable: false, status: 401 });
    expect(JSON.stringify(refused) + String((refused as Error).message)).not.toContain(secret);
  });

  it('classifies statuses: 400/401/403/404 are final, 408/409/429/5xx are retryable', () => {
    for (const status of [400, 401, 403, 404, 422])
      expect(EmbeddingError.fromStatus(status, 'x').retryable).toBe(false);
    for (const status of [408, 409, 429, 500, 503]) expect(EmbeddingError.fromStatus(status, 'x').retryable).toBe(true);
  });

  it('reports an unreachable server and a timeout as retryable', async () => {
    const down = new EmbeddingClient({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: '', model: 'm', timeoutMs: 2000 });
    await expect(down.embed(['x'])).rejects.toMatchObject({ code: 'embedding_unavailable', retryable: true });

    const slow = await startFakeEmbeddings({ delayMs: 500 });
    try {
      await expect(client({ baseUrl: slow.url, timeoutMs: 100 }).embed(['x'])).rejects.toMatchObject({
        code: 'embedding_timeout',
        retryable: true,
      });
    } finally {
      await slow.close();
    }
  });

  it('refuses an answer with missing, repeated or mis-sized vectors', async () => {
    let answer: unknown = {};
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const embedding = (index: number, values: number[]) => ({ object: 'embedding', index, embedding: values });
    try {
      const cases: unknown[][] = [
        [embedding(0, [1, 2])],
        [embedding(0, [1, 2]), embedding(0, [3, 4])],
        [embedding(0, [1, 2]), embedding(1, [3])],
      ];
      for (const data of cases) {
        answer = { object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } };
        await expect(client({ baseUrl }).embed(['a', 'b'])).rejects.toMatchObject({
          code: 'embedding_bad_response',
          retryable: false,
        });
      }
      answer = { object: 'list', data: [embedding(1, [3, 4]), embedding(0, [1, 2])], model: 'm', usage: {} };
      const ordered = await client({ baseUrl }).embed(['a', 'b']);
      expect(ordered.map((vector) => [...vector])).toEqual([
        [1, 2],
        [3, 4],
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
