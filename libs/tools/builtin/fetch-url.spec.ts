import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { ToolError, type ToolContext } from '../tool-definition';
import { createFetchUrlTool, type FetchUrlOptions } from './fetch-url';

const LOCAL = ['127.0.0.1/32'];

function context(signal = new AbortController().signal): ToolContext {
  return { userId: 'u1', turnId: 't1', signal };
}

/** A lookup that answers from a table and counts the names it was asked for. */
function fakeLookup(table: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup = (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(lookup, { asked });
}

async function failure(promise: Promise<unknown>): Promise<ToolError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

const PAGE = `<!doctype html><html><head><title>Tide &amp; Moon</title>
<style>body { color: red }</style><script>alert("x")</script></head>
<body><h1>Tides</h1><!-- hidden comment --><p>The moon   pulls
the <b>sea</b>.</p><noscript>enable js</noscript><p>Twice&nbsp;a day.</p></body></html>`;

describe('fetch_url tool against a local server', () => {
  let server: Server;
  let origin: string;
  let port: number;
  const requests: { url: string; host?: string }[] = [];

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    switch (url.pathname) {
      case '/page':
        return send(200, 'text/html; charset=utf-8', PAGE);
      case '/host':
        return send(200, 'text/plain', `host=${req.headers.host}`);
      case '/big':
        return send(200, 'text/plain', 'a'.repeat(5000));
      case '/json':
        return send(200, 'application/json', '{"ok":true}');
      case '/image':
        return send(200, 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      case '/missing':
        return send(404, 'text/plain', 'no');
      case '/broken':
        return send(503, 'text/plain', 'down');
      case '/redirect':
        return void res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      case '/chain': {
        const left = Number(url.searchParams.get('n'));
        return void res.writeHead(301, { location: left > 0 ? `/chain?n=${left - 1}` : '/page' }).end();
      }
      case '/hang':
        return; // never answers
      default:
        return send(404, 'text/plain', 'unknown route');
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', host: req.headers.host });
      route(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const fetchWith = (options: FetchUrlOptions, url: string, ctx = context()) =>
    createFetchUrlTool(options).run({ url }, ctx);

  it('(a) refuses the loopback server when no private network is allowed, before connecting', async () => {
    const error = await failure(fetchWith({}, `${origin}/page`));
    expect(error.message).toBe('Refused: 127.0.0.1 is a loopback address');
    expect(error.retryable).toBe(false);
    expect(requests).toHaveLength(0);
  });

  it.each([
    ['http://10.0.0.5/', 'Refused: 10.0.0.5 is a private address'],
    ['http://172.20.1.1/', 'Refused: 172.20.1.1 is a private address'],
    ['http://192.168.1.10:8080/admin', 'Refused: 192.168.1.10 is a private address'],
    ['http://169.254.169.254/latest/meta-data/', 'Refused: 169.254.169.254 is a link-local address'],
    ['http://100.64.0.1/', 'Refused: 100.64.0.1 is a carrier-grade NAT address'],
    ['http://0.0.0.0/', 'Refused: 0.0.0.0 is a "this network" address'],
    ['http://224.0.0.1/', 'Refused: 224.0.0.1 is a multicast address'],
    ['http://255.255.255.255/', 'Refused: 255.255.255.255 is the broadcast address'],
    ['http://240.0.0.1/', 'Refused: 240.0.0.1 is a reserved address'],
    ['http://2130706433/', 'Refused: 127.0.0.1 is a loopback address'], // decimal
    ['http://0x7f.1/', 'Refused: 127.0.0.1 is a loopback address'], // hex, short form
    ['http://0177.0.0.1/', 'Refused: 127.0.0.1 is a loopback address'], // octal
    ['http://127.1/', 'Refused: 127.0.0.1 is a loopback address'],
    ['http://[::1]/', 'Refused: ::1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]/', 'Refused: ::ffff:7f00:1 is a loopback address'], // IPv4-mapped
    ['http://[::ffff:7f00:1]/', 'Refused: ::ffff:7f00:1 is a loopback address'],
    ['http://[::ffff:a9fe:a9fe]/', 'Refused: ::ffff:a9fe:a9fe is a link-local address'], // mapped metadata
    ['http://[64:ff9b::a00:1]/', 'Refused: 64:ff9b::a00:1 is a private address'], // NAT64 of 10.0.0.1
    ['http://[fd00::1]/', 'Refused: fd00::1 is a private (unique-local) address'],
    ['http://[fe80::1]/', 'Refused: fe80::1 is a link-local address'],
    ['http://[::]/', 'Refused: :: is the unspecified address'],
  ])('(b) refuses the literal address in %s', async (url, message) => {
    const lookup = fakeLookup({});
    const error = await failure(fetchWith({ lookup }, url));
    expect(error.message).toBe(message);
    expect(error.retryable).toBe(false);
    expect(lookup.asked).toEqual([]);
  });

  it.each([
    ['ftp://example.com/file', 'Refused: only http and https URLs can be fetched, not ftp:'],
    ['file:///etc/passwd', 'Refused: only http and https URLs can be fetched, not file:'],
    ['http://user:pw@example.com/', 'Refused: URLs with credentials are not fetched'],
    ['not a url', 'Invalid URL: not a url'],
  ])('refuses %s', async (url, message) => {
    expect((await failure(fetchWith({ lookup: fakeLookup({}) }, url))).message).toBe(message);
  });

  it('(c) refuses a name that resolves to a private address, and one whose answers mix public and private', async () => {
    const lookup = fakeLookup({
      'intranet.example': ['10.1.2.3'],
      'mixed.example': ['93.184.216.34', '192.168.0.7'],
      'metadata.example': ['2606:4700::1111', '::ffff:169.254.169.254'],
    });
    expect((await failure(fetchWith({ lookup }, 'http://intranet.example/'))).message).toBe(
      'Refused: 10.1.2.3 is a private address',
    );
    expect((await failure(fetchWith({ lookup }, 'https://mixed.example/'))).message).toBe(
      'Refused: 192.168.0.7 is a private address',
    );
    expect((await failure(fetchWith({ lookup }, 'http://metadata.example/'))).message).toBe(
      'Refused: ::ffff:169.254.169.254 is a link-local address',
    );
    expect(lookup.asked).toEqual(['intranet.example', 'mixed.example', 'metadata.example']);
  });

  it('(c) refuses localhost through real name resolution', async () => {
    const error = await failure(fetchWith({}, `http://localhost:${port}/page`));
    expect(error.message).toMatch(/^Refused: (127\.0\.0\.1|::1) is a loopback address$/);
    expect(requests).toHaveLength(0);
  });

  it('(d) with the allow option, fetches a page and reduces its HTML to text', async () => {
    const output = await fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/page`);
    expect(output.content).toBe(
      [
        `URL: ${origin}/page`,
        'Title: Tide & Moon',
        'Content-Type: text/html',
        '',
        'Tides\n\nThe moon pulls the sea.\n\nTwice a day.',
      ].join('\n'),
    );
    expect(output.summary).toBe(`Fetched ${origin}/page: "Tide & Moon"`);
  });

  it('(d) reads JSON as text', async () => {
    const output = await fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/json`);
    expect(output.content.endsWith('\n\n{"ok":true}')).toBe(true);
  });

  it('(d) stops reading at the body limit and says so; caps the text given to the model', async () => {
    const cut = await fetchWith({ allowedPrivateNetworks: LOCAL, maxBodyBytes: 1000 }, `${origin}/big`);
    expect(cut.content).toContain('(The page was longer than 1000 bytes; only the start was read.)');
    expect(cut.content.endsWith(`\n\n${'a'.repeat(1000)}`)).toBe(true);

    const capped = await fetchWith({ allowedPrivateNetworks: LOCAL, maxContentChars: 300 }, `${origin}/big`);
    expect(capped.content).toContain('(Text cut at 300 of 5000 characters.)');
    expect(capped.content.endsWith(`\n\n${'a'.repeat(300)}`)).toBe(true);
  });

  it.each([
    ['http://10.0.0.1/', 'Refused: 10.0.0.1 is a private address'],
    ['http://169.254.169.254/latest/meta-data/iam/', 'Refused: 169.254.169.254 is a link-local address'],
    ['http://intranet.example/', 'Refused: 10.9.9.9 is a private address'],
    ['gopher://127.0.0.1/', 'Refused: only http and https URLs can be fetched, not gopher:'],
  ])('(e) refuses a redirect from the allowed server to %s', async (target, message) => {
    const lookup = fakeLookup({ 'intranet.example': ['10.9.9.9'] });
    const url = `${origin}/redirect?to=${encodeURIComponent(target)}`;
    expect((await failure(fetchWith({ allowedPrivateNetworks: LOCAL, lookup }, url))).message).toBe(message);
    expect(requests.map((r) => r.url)).toEqual([`/redirect?to=${encodeURIComponent(target)}`]);
  });

  it('(e) follows up to 5 redirects and refuses the 6th', async () => {
    const ok = await fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/chain?n=4`);
    expect(ok.content).toContain(`URL: ${origin}/page`);
    expect(requests).toHaveLength(6);

    requests.length = 0;
    const error = await failure(fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/chain?n=5`));
    expect(error.message).toBe('Refused: too many redirects (more than 5)');
    expect(requests).toHaveLength(6);
  });

  it('(f) refuses content that is not text', async () => {
    const error = await failure(fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/image`));
    expect(error.message).toBe(`Refused: ${origin}/image is image/png, not a text document`);
    expect(error.retryable).toBe(false);
  });

  it('reports 4xx as final and 5xx as worth retrying', async () => {
    const missing = await failure(fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/missing`));
    expect([missing.message, missing.retryable]).toEqual([`HTTP 404 from ${origin}/missing`, false]);
    const broken = await failure(fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/broken`));
    expect([broken.message, broken.retryable]).toEqual([`HTTP 503 from ${origin}/broken`, true]);
  });

  it('(g) gives up on a server that never answers, as a retryable timeout', async () => {
    const started = Date.now();
    const error = await failure(fetchWith({ allowedPrivateNetworks: LOCAL, timeoutMs: 300 }, `${origin}/hang`));
    expect(error.message).toBe(`Timed out after 300 ms fetching ${origin}/hang`);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("(g) stops when the turn's signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(
      fetchWith({ allowedPrivateNetworks: LOCAL }, `${origin}/hang`, context(controller.signal)),
    );
    expect(error.message).toBe('The fetch was cancelled');
  });

  it('(h) connects to the checked address, not a second resolution, and sends the name as Host', async () => {
    // public.example exists in no real DNS: the request can only arrive here through the pinned address.
    const lookup = fakeLookup({ 'public.example': ['127.0.0.1'] });
    const output = await fetchWith({ allowedPrivateNetworks: LOCAL, lookup }, `http://public.example:${port}/host`);
    expect(output.content.endsWith(`\n\nhost=public.example:${port}`)).toBe(true);
    expect(requests).toEqual([{ url: '/host', host: `public.example:${port}` }]);
    expect(lookup.asked).toEqual(['public.example']);
  });

  it('(h) resolves each redirect target again, by its own name', async () => {
    const lookup = fakeLookup({ 'a.example': ['127.0.0.1'], 'b.example': ['127.0.0.1'] });
    const url = `http://a.example:${port}/redirect?to=${encodeURIComponent(`http://b.example:${port}/host`)}`;
    const output = await fetchWith({ allowedPrivateNetworks: LOCAL, lookup }, url);
    expect(output.content.endsWith(`host=b.example:${port}`)).toBe(true);
    expect(lookup.asked).toEqual(['a.example', 'b.example']);
  });

  it('reports a name that does not exist as final', async () => {
    const error = await failure(fetchWith({ lookup: fakeLookup({}) }, 'http://nowhere.example/'));
    expect([error.message, error.retryable]).toEqual(['Could not resolve nowhere.example (ENOTFOUND)', false]);
  });
});
