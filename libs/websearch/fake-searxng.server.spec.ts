import { startFakeSearxng, type FakeSearxng } from '../../test/fakes/fake-searxng.server';

/** The fake SearxNG itself (the web search tests stand on it), driven with plain HTTP. */
describe('fake SearxNG server', () => {
  let fake: FakeSearxng;

  beforeAll(async () => {
    fake = await startFakeSearxng({ resultCount: 4 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.setMode('ok'));

  it("answers in SearxNG's JSON format, deterministically per query", async () => {
    const ask = async (q: string): Promise<Record<string, unknown>> => {
      const res = await fetch(`${fake.url}/search?q=${encodeURIComponent(q)}&format=json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      return (await res.json()) as Record<string, unknown>;
    };
    const body = await ask('rust async');
    expect(Object.keys(body).sort()).toEqual(
      [
        'answers',
        'corrections',
        'infoboxes',
        'number_of_results',
        'query',
        'results',
        'suggestions',
        'unresponsive_engines',
      ].sort(),
    );
    expect(body['query']).toBe('rust async');
    const results = body['results'] as Record<string, unknown>[];
    expect(results).toHaveLength(4);
    expect(results[0]).toMatchObject({
      title: 'Result 1 about rust async',
      engine: 'duckduckgo',
      engines: ['duckduckgo'],
      category: 'general',
      score: 1,
    });
    expect(await ask('rust async')).toEqual(body);
    expect((await ask('go channels'))['results']).not.toEqual(results);
  });

  it('counts requests and switches failure modes', async () => {
    const before = fake.requests;
    const statusOf = async (): Promise<[number, string | null]> => {
      const res = await fetch(`${fake.url}/search?q=x&format=json`);
      await res.text();
      return [res.status, res.headers.get('retry-after')];
    };
    fake.setMode('rate_limited');
    expect(await statusOf()).toEqual([429, '2']);
    fake.setMode('forbidden');
    expect((await statusOf())[0]).toBe(403);
    fake.setMode('server_error');
    expect((await statusOf())[0]).toBe(500);
    fake.setMode('captcha');
    const captcha = await fetch(`${fake.url}/search?q=x&format=json`);
    expect(captcha.headers.get('content-type')).toMatch(/text\/html/);
    expect(await captcha.text()).toMatch(/CAPTCHA/);
    expect(fake.requests).toBe(before + 4);
  });

  it('holds a request in timeout mode until the client gives up', async () => {
    fake.setMode('timeout');
    const error: unknown = await fetch(`${fake.url}/search?q=x&format=json`, {
      signal: AbortSignal.timeout(150),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
  });

  it('refuses formats an instance would not serve', async () => {
    const res = await fetch(`${fake.url}/search?q=x&format=rss`);
    expect(res.status).toBe(403);
  });
});
