import { startFakeSearxng, type FakeSearxng } from '../../test/fakes/fake-searxng.server';
import { SearxngClient } from './searxng.client';
import { WebSearchError, type WebSearchErrorReason } from './web-search.error';

/** A fetch that answers every request with one canned response, and remembers the URLs it was asked for. */
function cannedFetch(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): typeof fetch & { urls: string[] } {
  const urls: string[] = [];
  const fn: typeof fetch = (input) => {
    urls.push(input instanceof Request ? input.url : input instanceof URL ? input.href : input);
    return Promise.resolve(new Response(body, { status, headers }));
  };
  return Object.assign(fn, { urls });
}

function json(results: unknown[]): string {
  return JSON.stringify({ query: 'q', number_of_results: results.length, results, answers: [], suggestions: [] });
}

async function failure(promise: Promise<unknown>): Promise<WebSearchError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebSearchError);
  return error as WebSearchError;
}

describe('SearxngClient against the fake SearxNG', () => {
  let fake: FakeSearxng;
  let client: SearxngClient;

  beforeAll(async () => {
    fake = await startFakeSearxng();
    client = new SearxngClient({ baseUrl: fake.url, timeoutMs: 300 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.setMode('ok'));

  it('maps results and asks for JSON with safe search', async () => {
    const results = await client.search('durable workflows', { limit: 3, language: 'en' });
    expect(results).toHaveLength(3);
    expect(results[0]).toEqual({
      title: 'Result 1 about durable workflows',
      url: expect.stringMatching(/^https:\/\/example\.org\/[0-9a-f]{8}\/durable-workflows\/1$/),
      snippet: 'This page (1) explains durable workflows in some detail.',
      engine: 'duckduckgo',
    });
    expect(new Set(results.map((r) => r.url)).size).toBe(3);
    expect(fake.lastParams?.get('q')).toBe('durable workflows');
    expect(fake.lastParams?.get('format')).toBe('json');
    expect(fake.lastParams?.get('safesearch')).toBe('1');
    expect(fake.lastParams?.get('language')).toBe('en');
  });

  it.each<[Parameters<FakeSearxng['setMode']>[0], WebSearchErrorReason, number | undefined]>([
    ['rate_limited', 'rate_limited', 429],
    ['captcha', 'blocked', 200],
    ['forbidden', 'blocked', 403],
    ['server_error', 'http_error', 500],
    ['timeout', 'timeout', undefined],
  ])('classifies %s as %s', async (mode, reason, status) => {
    fake.setMode(mode);
    const started = Date.now();
    const error = await failure(client.search('anything', { limit: 5 }));
    expect(error.reason).toBe(reason);
    expect(error.status).toBe(status);
    if (mode === 'rate_limited') expect(error.retryAfterMs).toBe(2000);
    if (mode === 'captcha') expect(error.message).toMatch(/CAPTCHA/);
    if (mode === 'timeout') expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reports an instance that is not there as unreachable', async () => {
    const gone = await startFakeSearxng();
    const url = gone.url;
    await gone.close();
    const error = await failure(new SearxngClient({ baseUrl: url, timeoutMs: 1000 }).search('x', { limit: 1 }));
    expect(error.reason).toBe('unreachable');
    expect(error.isProviderFailure).toBe(true);
  });

  it("throws the caller's abort reason, not a provider failure", async () => {
    fake.setMode('timeout');
    const controller = new AbortController();
    const search = client.search('x', { limit: 1, signal: controller.signal });
    controller.abort(new Error('turn cancelled'));
    await expect(search).rejects.toThrow('turn cancelled');
  });
});

describe('SearxngClient result handling', () => {
  it('drops non-http(s) URLs and junk, trims text, dedupes by URL and honours the limit', async () => {
    const fetch = cannedFetch(
      200,
      json([
        { url: 'https://a.example/one', title: '  One  ', content: '\n  first\n\n snippet  ', engine: 'brave' },
        { url: 'javascript:alert(1)', title: 'bad', content: '' },
        { url: 'ftp://files.example/x', title: 'ftp', content: '' },
        { url: 'https://a.example/one#section', title: 'One again', content: 'dup' },
        { url: 'not a url', title: 'junk' },
        'not an object',
        { title: 'no url' },
        { url: 'http://b.example/two', content: 'no title' },
        { url: 'https://c.example/three', title: 'Three', content: 'third' },
        { url: 'https://d.example/four', title: 'Four', content: 'fourth' },
      ]),
      { 'content-type': 'application/json' },
    );
    const client = new SearxngClient({ baseUrl: 'http://searx.local/searx/', timeoutMs: 1000, fetch });
    const results = await client.search('q', { limit: 3 });
    expect(results).toEqual([
      { title: 'One', url: 'https://a.example/one', snippet: 'first snippet', engine: 'brave' },
      { title: 'b.example', url: 'http://b.example/two', snippet: 'no title' },
      { title: 'Three', url: 'https://c.example/three', snippet: 'third' },
    ]);
    expect(fetch.urls[0]).toBe('http://searx.local/searx/search?q=q&format=json&safesearch=1');
  });

  it('reports a body that is not JSON, or JSON without results, as bad_response', async () => {
    const notJson = new SearxngClient({ baseUrl: 'http://s', timeoutMs: 1000, fetch: cannedFetch(200, 'oops{') });
    expect((await failure(notJson.search('q', { limit: 1 }))).reason).toBe('bad_response');
    const noResults = new SearxngClient({ baseUrl: 'http://s', timeoutMs: 1000, fetch: cannedFetch(200, '{"a":1}') });
    const error = await failure(noResults.search('q', { limit: 1 }));
    expect(error.reason).toBe('bad_response');
    expect(error.isProviderFailure).toBe(false);
  });

  it('reports an HTML page served as JSON as blocked, and other 4xx as http_error', async () => {
    const html = new SearxngClient({
      baseUrl: 'http://s',
      timeoutMs: 1000,
      fetch: cannedFetch(200, '<html><body>Access denied</body></html>', { 'content-type': 'application/json' }),
    });
    expect((await failure(html.search('q', { limit: 1 }))).reason).toBe('blocked');
    const notFound = new SearxngClient({ baseUrl: 'http://s', timeoutMs: 1000, fetch: cannedFetch(404, 'nope') });
    const error = await failure(notFound.search('q', { limit: 1 }));
    expect([error.reason, error.status, error.isProviderFailure]).toEqual(['http_error', 404, false]);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => new SearxngClient({ baseUrl: 'file:///etc', timeoutMs: 1000 })).toThrow(/http/);
  });
});
