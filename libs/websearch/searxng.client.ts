import type { WebResult } from './web-result';
import { WebSearchError } from './web-search.error';

export interface SearxngClientOptions {
  /** The SearxNG instance, e.g. `http://127.0.0.1:8888` (a path such as `/searx` is kept). */
  baseUrl: string;
  /** For the whole exchange, body included. */
  timeoutMs: number;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

export interface SearxngSearchOptions {
  /** At most this many results (SearxNG has no page size; the first page is cut). */
  limit: number;
  /** A SearxNG language code such as `en` or `de-CH`; default: the instance's own. */
  language?: string;
  /** Cancels the search; its abort reason is thrown as is (it is not a provider failure). */
  signal?: AbortSignal;
}

/** A SearxNG answer is a few dozen kB; anything far larger is not one. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Searches the web through SearxNG's JSON API (`GET /search?format=json`, which the instance must allow in
 * `search.formats`, otherwise it answers 403). Failures are {@link WebSearchError}s with a `reason`; results are
 * cleaned: only http(s) URLs, trimmed text, one result per URL.
 */
export class SearxngClient {
  private readonly searchUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: SearxngClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`SearxNG base URL must be http(s), got ${base.protocol}`);
    }
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) {
      throw new Error(`timeoutMs must be a positive integer, got ${options.timeoutMs}`);
    }
    base.search = '';
    base.hash = '';
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/search`;
    this.searchUrl = base.href;
    this.timeoutMs = options.timeoutMs;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async search(query: string, options: SearxngSearchOptions): Promise<WebResult[]> {
    const url = new URL(this.searchUrl);
    url.searchParams.set('q', query);
    url.searchParams.set('format', 'json');
    url.searchParams.set('safesearch', '1');
    if (options.language !== undefined && options.language !== '') url.searchParams.set('language', options.language);

    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const failed = (error: unknown): never => {
      options.signal?.throwIfAborted();
      if (timeout.aborted) {
        throw new WebSearchError('timeout', `SearxNG did not answer within ${this.timeoutMs} ms`, { cause: error });
      }
      throw error instanceof WebSearchError
        ? error
        : new WebSearchError('unreachable', `SearxNG is unreachable: ${describe(error)}`, { cause: error });
    };

    let response: Response;
    let body: string;
    try {
      response = await this.fetch(url, { headers: { accept: 'application/json' }, signal });
      body = await readText(response);
    } catch (error) {
      return failed(error);
    }
    return limitResults(parseResults(response, body), options.limit);
  }
}

function parseResults(response: Response, body: string): WebResult[] {
  const status = response.status;
  const looksLikeHtml = /^\s*</.test(body) || (response.headers.get('content-type') ?? '').includes('html');
  if (status === 429) {
    throw new WebSearchError('rate_limited', 'SearxNG is rate limiting us (429)', {
      status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    });
  }
  if (status === 403) {
    throw new WebSearchError('blocked', 'SearxNG refused the search (403); is the json format enabled?', { status });
  }
  if (status < 200 || status >= 300) {
    throw new WebSearchError('http_error', `SearxNG answered ${status}`, { status });
  }
  if (looksLikeHtml) {
    // A bot check (CAPTCHA, a proxy's challenge page) answers in HTML where JSON was asked for.
    const captcha = /captcha|challenge|are you a robot|verify you are human/i.test(body);
    throw new WebSearchError('blocked', `SearxNG answered with an HTML page${captcha ? ' (a CAPTCHA)' : ''}`, {
      status,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new WebSearchError('bad_response', 'SearxNG answered with something that is not JSON', {
      status,
      cause: error,
    });
  }
  const results = typeof parsed === 'object' && parsed !== null ? (parsed as { results?: unknown }).results : undefined;
  if (!Array.isArray(results)) {
    throw new WebSearchError('bad_response', 'SearxNG answered JSON without a results list', { status });
  }
  return results.flatMap((item: unknown) => {
    const result = toWebResult(item);
    return result ? [result] : [];
  });
}

function toWebResult(item: unknown): WebResult | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { url, title, content, engine } = item as Record<string, unknown>;
  if (typeof url !== 'string') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const result: WebResult = {
    title: typeof title === 'string' ? tidy(title) : '',
    url: parsed.href,
    snippet: typeof content === 'string' ? tidy(content) : '',
  };
  if (typeof engine === 'string' && engine !== '') result.engine = engine;
  if (result.title === '') result.title = parsed.hostname;
  return result;
}

/** Keeps the first result for each URL (fragments ignored), in SearxNG's order, up to `limit`. */
function limitResults(results: WebResult[], limit: number): WebResult[] {
  const seen = new Set<string>();
  const kept: WebResult[] = [];
  for (const result of results) {
    if (kept.length >= limit) break;
    const key = result.url.replace(/#.*$/, '');
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(result);
  }
  return kept;
}

function tidy(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function readText(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) {
      // Leaving the loop cancels the stream.
      throw new WebSearchError('bad_response', `SearxNG answered more than ${MAX_BODY_BYTES} bytes`, {
        status: response.status,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
