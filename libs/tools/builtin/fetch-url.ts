import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { z } from 'zod';
import { oneLine, ToolError, type ToolContext, type ToolDefinition } from '../tool-definition';
import { htmlToText } from './html-to-text';
import { IpAddressPolicy } from './ip-address-policy';
import { pinnedGet, type CheckedAddress, type PinnedResponse } from './pinned-http-get';

export interface FetchUrlOptions {
  /** Total time for one call, redirects included. Default 10 s. */
  timeoutMs?: number;
  /** Bytes of body read at most; the rest is not downloaded. Default 1 MB. */
  maxBodyBytes?: number;
  /** Characters of text handed to the model at most. Default 20,000. */
  maxContentChars?: number;
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number;
  /**
   * CIDRs that may be contacted although they are not public (e.g. `['127.0.0.1/32']`). Exists so tests can reach
   * a local server. Operators must not set it, except for a vetted allowlist of internal hosts the model is meant to
   * read: every address in it becomes reachable by anyone who can chat.
   */
  allowedPrivateNetworks?: string[];
  /** Name resolution; `dns.promises.lookup` by default, a fake in tests. */
  lookup?: (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;
}

const parameters = z.object({
  url: z.string().min(1).max(2048).describe('The absolute http:// or https:// URL of the page to read'),
});

export type FetchUrlArgs = z.infer<typeof parameters>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TEXT_CONTENT_TYPE = /^(?:text\/[\w.+-]+|application\/(?:[\w.-]+\+)?(?:json|xml))$/;
const HTML_CONTENT_TYPE = /^(?:text\/html|application\/xhtml\+xml)$/;

/**
 * `fetch_url`: reads one web page for the model. The model chooses the URL, so this is the tool an attacker would
 * use to reach our own network (SSRF): every URL, the first and each redirect, is checked by name resolution and IP
 * policy, and the connection goes to exactly the address that was checked.
 */
export function createFetchUrlTool(options: FetchUrlOptions = {}): ToolDefinition<FetchUrlArgs> {
  const settings = {
    timeoutMs: options.timeoutMs ?? 10_000,
    maxBodyBytes: options.maxBodyBytes ?? 1_000_000,
    maxContentChars: options.maxContentChars ?? 20_000,
    maxRedirects: options.maxRedirects ?? 5,
  };
  const policy = new IpAddressPolicy(options.allowedPrivateNetworks);
  const lookup = options.lookup ?? ((hostname, lookupOptions) => dns.lookup(hostname, lookupOptions));

  /** The URL parsed and allowed by scheme, and an address for its host that passed the IP policy. */
  async function checkedTarget(raw: string, signal: AbortSignal): Promise<{ url: URL; target: CheckedAddress }> {
    const url = parseUrl(raw);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(host);
    // WHATWG parsing has already turned odd IPv4 forms (2130706433, 0x7f.1, 127.1) into dotted quads here.
    const addresses = literal ? [{ address: host, family: literal }] : await resolve(host, signal);
    // Every answer must pass: the OS, not us, would pick among them if we let it.
    for (const { address } of addresses) policy.check(address);
    const [first] = addresses;
    if (!first) throw new ToolError(`Could not resolve ${host}`);
    return { url, target: { address: first.address, family: first.family === 6 ? 6 : 4 } };
  }

  async function resolve(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
    try {
      return await abortable(lookup(host, { all: true }), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTFOUND is a name that does not exist; anything else (EAI_AGAIN...) may pass.
      throw new ToolError(`Could not resolve ${host}${code ? ` (${code})` : ''}`, code !== 'ENOTFOUND');
    }
  }

  /** Follows redirects by hand so that each new location is checked like the first URL. */
  async function fetchChecked(raw: string, signal: AbortSignal): Promise<{ url: URL; response: PinnedResponse }> {
    let next = raw;
    for (let redirects = 0; ; redirects += 1) {
      const { url, target } = await checkedTarget(next, signal);
      const response = await pinnedGet(url, target, signal);
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.status) || !location) return { url, response };
      response.discard();
      if (redirects >= settings.maxRedirects) {
        throw new ToolError(`Refused: too many redirects (more than ${settings.maxRedirects})`);
      }
      next = URL.canParse(location, url.href) ? new URL(location, url).href : location; // parseUrl names a bad one
    }
  }

  async function fetchPage(raw: string, signal: AbortSignal) {
    const { url, response } = await fetchChecked(raw, signal);
    if (response.status >= 400) {
      response.discard();
      // 5xx, 408 and 429 may pass; any other 4xx will answer the same again.
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new ToolError(`HTTP ${response.status} from ${url.href}`, retryable);
    }
    const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!TEXT_CONTENT_TYPE.test(contentType)) {
      response.discard();
      throw new ToolError(`Refused: ${url.href} is ${contentType || 'of no stated type'}, not a text document`);
    }
    const encoding = response.headers['content-encoding'];
    if (encoding && encoding.toLowerCase() !== 'identity') {
      response.discard();
      throw new ToolError(`Refused: ${url.href} was sent ${encoding}-compressed, which is not supported`);
    }
    const { body, truncated } = await response.readBody(settings.maxBodyBytes);
    const decoded = decode(body, response.headers['content-type']);
    const page = HTML_CONTENT_TYPE.test(contentType) ? htmlToText(decoded) : { text: decoded.trim() };
    return { url, status: response.status, contentType, truncated, ...page };
  }

  return {
    name: 'fetch_url',
    description:
      'Fetches a public web page (http or https) and returns its readable text. Only text documents (HTML, ' +
      'plain text, JSON, XML) are read; addresses inside private networks are refused.',
    parameters,
    timeoutMs: 15_000,
    maxAttempts: 3,
    requiresApproval: false,
    async run({ url }, ctx: ToolContext) {
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      let page: Awaited<ReturnType<typeof fetchPage>>;
      try {
        page = await fetchPage(url, signal);
      } catch (error) {
        if (error instanceof ToolError) throw error;
        if (ctx.signal.aborted) throw new ToolError('The fetch was cancelled');
        if (timeout.aborted) throw new ToolError(`Timed out after ${settings.timeoutMs} ms fetching ${url}`, true);
        const code = (error as NodeJS.ErrnoException).code;
        throw new ToolError(`Network error fetching ${url}: ${code ?? (error as Error).message}`, true);
      }
      const notes = [
        page.truncated ? `(The page was longer than ${settings.maxBodyBytes} bytes; only the start was read.)` : '',
        page.text.length > settings.maxContentChars
          ? `(Text cut at ${settings.maxContentChars} of ${page.text.length} characters.)`
          : '',
      ].filter(Boolean);
      const content = [
        `URL: ${page.url.href}`,
        ...(page.title ? [`Title: ${page.title}`] : []),
        `Content-Type: ${page.contentType}`,
        ...notes,
        '',
        page.text.slice(0, settings.maxContentChars),
      ].join('\n');
      const what = page.title ? `"${page.title}"` : `${page.text.length} characters`;
      return { content, summary: oneLine(`Fetched ${page.url.href}: ${what}`) };
    },
  };
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ToolError(`Invalid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolError(`Refused: only http and https URLs can be fetched, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new ToolError('Refused: URLs with credentials are not fetched');
  return url;
}

/** The body as text, in the charset the server named; UTF-8 when it named none or one we do not know. */
function decode(body: Buffer, contentType: string | undefined): string {
  const charset = /charset="?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** Lets a promise that cannot be cancelled (name resolution) stop being awaited when `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
