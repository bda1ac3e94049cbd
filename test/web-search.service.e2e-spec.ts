import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startFakeSearxng, type FakeSearxng, type FakeSearxngMode } from './fakes/fake-searxng.server';
import { RedisCircuitBreaker } from '#libs/resilience/circuit-breaker';
import { SearxngClient } from '#libs/websearch/searxng.client';
import { normaliseQuery, WebSearchService, type WebSearchServiceOptions } from '#libs/websearch/web-search.service';

const prefix = `test:websearch:${randomBytes(6).toString('hex')}:`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let redis: Redis;
let fake: FakeSearxng;
let sequence = 0;

/** A service with its own key space (cache, stats, breaker), so tests do not see each other's state. */
function service(options: Partial<WebSearchServiceOptions> & { threshold?: number } = {}): WebSearchService {
  const keyPrefix = `${prefix}${++sequence}:`;
  return new WebSearchService({
    client: new SearxngClient({ baseUrl: fake.url, timeoutMs: 250 }),
    redis,
    keyPrefix,
    cacheTtlSeconds: 60,
    breaker: new RedisCircuitBreaker({
      redis,
      keyPrefix,
      name: 'websearch',
      failureThreshold: options.threshold ?? 5,
      cooldownMs: 300,
    }),
    resultLimit: 3,
    ...options,
  });
}

beforeAll(async () => {
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  fake = await startFakeSearxng();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await fake.close();
});

beforeEach(() => fake.setMode('ok'));

describe('WebSearchService', () => {
  it('returns the mapped results of a search', async () => {
    const outcome = await service().search('Temporal workflows');
    expect(outcome.status).toBe('ok');
    expect(outcome).toMatchObject({ cached: false });
    expect(outcome.results).toHaveLength(3);
    expect(outcome.results.map((r) => r.title)).toEqual([
      'Result 1 about Temporal workflows',
      'Result 2 about Temporal workflows',
      'Result 3 about Temporal workflows',
    ]);
    expect(outcome.results[1]?.snippet).toBe('This page (2) explains Temporal workflows in some detail.');
    expect(outcome.results[1]?.engine).toBe('wikipedia');
  });

  it('answers a repeated query (any case and spacing) from the cache without calling SearxNG', async () => {
    const search = service();
    const first = await search.search('redis  streams');
    const before = fake.requests;
    const second = await search.search('  Redis Streams ');
    expect(fake.requests).toBe(before);
    expect(second).toEqual({ status: 'ok', results: first.results, cached: true });
    expect(await search.stats()).toEqual({ hits: 1, misses: 1 });

    await search.search('something else');
    expect(fake.requests).toBe(before + 1);
    expect(await search.stats()).toEqual({ hits: 1, misses: 2 });
  });

  it('gives cache entries the configured TTL', async () => {
    const search = service({ cacheTtlSeconds: 42 });
    await search.search('ttl check');
    const [key] = await redis.keys(`${prefix}${sequence}:websearch:cache:*`);
    expect(key).toBeDefined();
    const ttl = await redis.ttl(key ?? '');
    expect(ttl).toBeGreaterThan(30);
    expect(ttl).toBeLessThanOrEqual(42);
  });

  it('skips with not_configured when there is no SearxNG', async () => {
    const before = fake.requests;
    const outcome = await service({ client: undefined }).search('anything');
    expect(outcome).toEqual({ status: 'skipped', reason: 'not_configured', detail: expect.any(String), results: [] });
    expect(fake.requests).toBe(before);
  });

  it.each<[FakeSearxngMode, string]>([
    ['rate_limited', 'rate_limited'],
    ['captcha', 'blocked'],
    ['forbidden', 'blocked'],
    ['timeout', 'timeout'],
    ['server_error', 'error'],
  ])('degrades when SearxNG is %s, with reason %s, and caches nothing', async (mode, reason) => {
    const warn = jest.fn();
    const search = service({ logger: { warn } });
    fake.setMode(mode);
    const outcome = await search.search(`query for ${mode}`);
    expect(outcome).toEqual({ status: 'skipped', reason, detail: expect.any(String), results: [] });
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ reason }), 'web search skipped');

    fake.setMode('ok');
    const before = fake.requests;
    const retry = await search.search(`query for ${mode}`);
    expect(retry).toMatchObject({ status: 'ok', cached: false });
    expect(fake.requests).toBe(before + 1);
  });

  it('degrades with reason error when SearxNG is unreachable', async () => {
    const gone = await startFakeSearxng();
    const url = gone.url;
    await gone.close();
    const outcome = await service({ client: new SearxngClient({ baseUrl: url, timeoutMs: 500 }) }).search('x');
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'error', detail: expect.stringMatching(/unreachable/) });
  });

  it('opens the circuit after repeated failures so SearxNG is left alone, then one probe closes it', async () => {
    const search = service({ threshold: 2 });
    fake.setMode('server_error');
    for (let i = 0; i < 2; i++) expect(await search.search(`failing ${i}`)).toMatchObject({ reason: 'error' });
    const afterFailures = fake.requests;

    fake.setMode('ok');
    const rejected = await search.search('while open');
    expect(rejected).toMatchObject({ status: 'skipped', reason: 'circuit_open' });
    expect(fake.requests).toBe(afterFailures);

    await sleep(350);
    const [probe, raced] = await Promise.all([search.search('probe'), search.search('raced')]);
    expect(fake.requests).toBe(afterFailures + 1);
    expect([probe.status, raced.status].sort()).toEqual(['ok', 'skipped']);

    const after = await search.search('after recovery');
    expect(after).toMatchObject({ status: 'ok', cached: false });
    expect(fake.requests).toBe(afterFailures + 2);
  });

  it('re-opens when the probe fails', async () => {
    const search = service({ threshold: 1 });
    fake.setMode('rate_limited');
    expect(await search.search('a')).toMatchObject({ reason: 'rate_limited' });
    await sleep(350);
    expect(await search.search('b')).toMatchObject({ reason: 'rate_limited' });
    const before = fake.requests;
    fake.setMode('ok');
    expect(await search.search('c')).toMatchObject({ reason: 'circuit_open' });
    expect(fake.requests).toBe(before);
  });

  it('does not open the circuit for answers that are not provider failures', async () => {
    const notJson = (): Promise<Response> => Promise.resolve(new Response('not json', { status: 200 }));
    const search = service({
      threshold: 1,
      client: new SearxngClient({ baseUrl: fake.url, timeoutMs: 500, fetch: notJson }),
    });
    expect(await search.search('a')).toMatchObject({ status: 'skipped', reason: 'error' });
    expect(await search.search('b')).toMatchObject({ status: 'skipped', reason: 'error' });
  });

  it('still searches when the cache is unavailable', async () => {
    // A real client whose connection is gone: every command fails at once.
    const broken = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0 });
    await broken.connect();
    await broken.quit();
    const warn = jest.fn();
    const search = service({ redis: broken, logger: { warn } });
    const outcome = await search.search('no cache');
    expect(outcome).toMatchObject({ status: 'ok', cached: false });
    expect(outcome.results).toHaveLength(3);
    expect(warn).toHaveBeenCalled();
  });

  it('normalises queries by case and whitespace', () => {
    expect(normaliseQuery('  Hello \n\t World ')).toBe('hello world');
  });
});
