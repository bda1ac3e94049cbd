import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';

/** An address that has passed the IP policy, and the family `net` needs to connect to it. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

export interface PinnedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Reads at most `maxBytes` of the body; `truncated` when the server had more. Call once, or `discard`. */
  readBody(maxBytes: number): Promise<{ body: Buffer; truncated: boolean }>;
  discard(): void;
}

const REQUEST_HEADERS = {
  'user-agent': 'GigaChat-fetch_url/1.0',
  accept: 'text/html, application/xhtml+xml, text/plain, application/json, application/xml;q=0.9, */*;q=0.1',
  // Compressed bodies would need decompression with its own size limit; asking for none keeps one limit.
  'accept-encoding': 'identity',
};

/**
 * One GET to `url`, connected to `target` and nowhere else. The `lookup` handed to `http.request` answers with the
 * address that was checked, so Node never resolves the name again (a DNS answer that changes between the check and
 * the connection — DNS rebinding — has nothing to act on). The URL's name still goes out as the Host header and as
 * the TLS server name, so virtual hosts and certificate checks work as usual.
 */
export function pinnedGet(url: URL, target: CheckedAddress, signal: AbortSignal): Promise<PinnedResponse> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: REQUEST_HEADERS,
        lookup: pinnedLookup(target),
        // A fresh connection per request: no pooled socket chosen by name alone.
        agent: false,
        signal,
      },
      (response) => {
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          readBody: (maxBytes) => readLimited(response, maxBytes),
          discard: () => response.destroy(),
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** A `lookup` that always answers with the checked address (in the array form when Node asks for all). */
function pinnedLookup(target: CheckedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

async function readLimited(
  response: http.IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      // Leaving the loop destroys the response: the rest is never downloaded.
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks), truncated: false };
}
