import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** Statuses whose responses never have a body (`Response` refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A fetch for the MCP transport whose connections are made only through `lookup`, which resolves a name and throws
 * unless every address passes the caller's policy. The address a socket connects to is therefore always one that was
 * checked in that very resolution: no second lookup happens behind the check (DNS rebinding has no window). Pooled
 * keep-alive sockets were all opened this way, so reusing one reaches a checked address too.
 *
 * Redirects are not followed: the response comes back as it is (the MCP SDK follows same-origin redirects itself,
 * through this fetch again). Request bodies are strings or bytes, as the SDK sends them, or forms (its OAuth token
 * requests).
 */
export function fetchThroughLookup(lookup: LookupFunction): { fetch: FetchLike; close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  const fetch: FetchLike = (input, init = {}) => {
    const url = new URL(input instanceof URL ? input.href : input);
    const client = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    // OAuth token requests send forms: as text, with the type fetch would give them.
    const form = init.body instanceof URLSearchParams ? init.body : undefined;
    const body = form ? form.toString() : init.body;
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('This fetch sends only string, byte or form bodies'));
    }
    const headers = new Headers(init.headers);
    if (form && !headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
    return new Promise<Response>((resolve, reject) => {
      const request = client.request(
        url,
        {
          method: init.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          agent,
          lookup,
          signal: init.signal ?? undefined,
        },
        (response) => {
          const headers = new Headers();
          for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
            headers.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
          }
          const status = response.statusCode ?? 0;
          if (NO_BODY.has(status)) response.resume();
          resolve(
            new Response(NO_BODY.has(status) ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
              status,
              statusText: response.statusMessage ?? '',
              headers,
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(body ?? undefined);
    });
  };
  return {
    fetch,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
