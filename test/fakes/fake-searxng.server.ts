/**
 * A small fake of a SearxNG instance's search endpoint, speaking its real JSON format so the real client is exercised:
 *
 * - `GET /search?q=…&format=json` — `{query, number_of_results, results: [{url, title, content, engine, engines,
 *   score, category}], answers, suggestions, infoboxes, unresponsive_engines}`, results derived from the query;
 * - without `format=json` an HTML results page, like SearxNG; `format` other than html/json is refused with 403, like
 *   an instance whose `search.formats` does not list it.
 *
 * Its mode (healthy, or one of the ways a public instance fails) can be switched at runtime.
 * Run it standalone with `PORT=8888 node dist/test/fakes/fake-searxng.server.js`; it prints its base URL on stdout.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, runStandalone } from './http-server';

export type FakeSearxngMode =
  /** Deterministic results derived from the query. */
  | 'ok'
  /** 429 with `Retry-After`, like SearxNG's limiter. */
  | 'rate_limited'
  /** 200 with an HTML CAPTCHA page where JSON was asked for, like a bot check in front of the instance. */
  | 'captcha'
  /** 403 with an HTML page. */
  | 'forbidden'
  /** Never answers; the request ends when the client gives up or the server closes. */
  | 'timeout'
  /** 500 with an HTML error page. */
  | 'server_error';

export interface FakeSearxngOptions {
  mode?: FakeSearxngMode;
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Results per answer in `ok` mode. Default 5. */
  resultCount?: number;
}

export interface FakeSearxng {
  /** Base URL of the instance, without a trailing slash. */
  readonly url: string;
  /** Search requests received so far (every mode counts). */
  readonly requests: number;
  /** The query string parameters of the last request. */
  readonly lastParams: URLSearchParams | undefined;
  setMode(mode: FakeSearxngMode): void;
  /** Stops listening and drops every open connection (hanging requests included). */
  close(): Promise<void>;
}

const ENGINES = ['duckduckgo', 'wikipedia', 'brave', 'startpage'];

/** The results `ok` mode answers for `query`: stable for a query, different between queries. */
export function fakeSearchResults(query: string, count = 5): object[] {
  const slug =
    query
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, '-')
      .replace(/^-+|-+$/g, '') || 'empty';
  const digest = createHash('sha256').update(query).digest('hex').slice(0, 8);
  return Array.from({ length: count }, (_, i) => {
    const engine = ENGINES[i % ENGINES.length] ?? 'duckduckgo';
    return {
      url: `https://example.org/${digest}/${slug}/${i + 1}`,
      title: `Result ${i + 1} about ${query}`,
      content: `  This page (${i + 1}) explains ${query} in some detail.  `,
      engine,
      engines: [engine],
      positions: [i + 1],
      score: Math.round((1 / (i + 1)) * 1000) / 1000,
      category: 'general',
      parsed_url: ['https', 'example.org', `/${digest}/${slug}/${i + 1}`, '', '', ''],
      template: 'default.html',
    };
  });
}

const CAPTCHA_PAGE = `<!DOCTYPE html>
<html><head><title>Just a moment...</title></head>
<body><h1>Please verify you are human</h1>
<form action="/captcha" method="post"><div class="g-recaptcha" data-sitekey="fake"></div>
<p>Complete the CAPTCHA to continue to SearXNG.</p><button type="submit">Continue</button></form></body></html>`;

function htmlPage(title: string, text: string): string {
  return `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

class FakeSearxngServer implements FakeSearxng {
  url = '';
  requests = 0;
  lastParams: URLSearchParams | undefined;
  private mode: FakeSearxngMode;
  private readonly server: Server;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: FakeSearxngOptions) {
    this.mode = options.mode ?? 'ok';
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<void> {
    this.url = await listen(this.server, this.options.port ?? 0, this.options.host ?? '127.0.0.1');
  }

  setMode(mode: FakeSearxngMode): void {
    this.mode = mode;
  }

  close(): Promise<void> {
    this.closing ??= closeServer(this.server);
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, 'text/plain', 'Method Not Allowed');
    if (url.pathname !== '/search') return send(res, 404, 'text/html', htmlPage('Not Found', url.pathname));
    this.requests += 1;
    this.lastParams = url.searchParams;

    switch (this.mode) {
      case 'timeout':
        return; // Held open until the client aborts or close() drops the connection.
      case 'rate_limited':
        return send(res, 429, 'text/html', htmlPage('Too Many Requests', 'Rate limit exceeded'), {
          'retry-after': '2',
        });
      case 'captcha':
        return send(res, 200, 'text/html; charset=utf-8', CAPTCHA_PAGE);
      case 'forbidden':
        return send(res, 403, 'text/html', htmlPage('Forbidden', 'You do not have access to this resource'));
      case 'server_error':
        return send(res, 500, 'text/html', htmlPage('Internal Server Error', 'Something went wrong'));
      case 'ok':
        return this.search(res, url.searchParams);
    }
  }

  private search(res: ServerResponse, params: URLSearchParams): void {
    const format = params.get('format') ?? 'html';
    if (format !== 'json' && format !== 'html') return send(res, 403, 'text/html', htmlPage('Forbidden', format));
    const query = params.get('q') ?? '';
    if (format === 'html') return send(res, 200, 'text/html', htmlPage('SearXNG', `results for ${query}`));
    if (query.trim() === '') return send(res, 400, 'text/plain', 'No query');
    const results = fakeSearchResults(query, this.options.resultCount ?? 5);
    send(
      res,
      200,
      'application/json',
      JSON.stringify({
        query,
        number_of_results: results.length * 1000,
        results,
        answers: [],
        corrections: [],
        infoboxes: [],
        suggestions: [`${query} tutorial`, `${query} example`],
        unresponsive_engines: [],
      }),
    );
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startFakeSearxng(options: FakeSearxngOptions = {}): Promise<FakeSearxng> {
  const fake = new FakeSearxngServer(options);
  await fake.listen();
  return fake;
}

if (require.main === module) {
  const port = Number(process.env['PORT'] ?? 8888);
  if (!Number.isInteger(port) || port < 0) {
    console.error(`PORT must be a non-negative integer, got ${JSON.stringify(process.env['PORT'])}`);
    process.exit(1);
  }
  runStandalone('fake SearxNG', () => startFakeSearxng({ port, host: process.env['HOST'] || '127.0.0.1' }));
}
