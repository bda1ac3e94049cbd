import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { IpAddressPolicy } from '../tools/builtin/ip-address-policy';
import { ToolError } from '../tools/tool-definition';

export type Lookup = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

/**
 * Keeps a user's own MCP server (`publicOnly`) on the public internet: the URL must be http(s) and every address its
 * host resolves to must pass {@link IpAddressPolicy}, or the server is refused (SSRF: otherwise a user could point
 * GigaChat at our own network). Refusals are non-retryable `ToolError`s; a name that may resolve later is retryable.
 */
export class PublicAddressGuard {
  private readonly policy: IpAddressPolicy;

  constructor(
    allowedPrivateNetworks: readonly string[] = [],
    private readonly lookup: Lookup = (hostname, options) => dns.lookup(hostname, options),
  ) {
    this.policy = new IpAddressPolicy(allowedPrivateNetworks);
  }

  /** Resolves `url`'s host and throws unless the URL is http(s) and every address is allowed. */
  async check(url: URL): Promise<void> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ToolError(`Refused: only http and https MCP servers can be reached, not ${url.protocol}`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(host) ? [host] : (await this.resolve(host)).map((answer) => answer.address);
    if (addresses.length === 0) throw new ToolError(`Could not resolve ${host}`, true);
    // Every answer must pass: the OS, not us, picks among them when connecting.
    for (const address of addresses) this.policy.check(address);
  }

  /**
   * A fetch for the MCP transport that checks each request's URL again before sending it, so a server that passes at
   * connect time cannot later be swapped for an internal one by a changed DNS answer. Best effort only: fetch resolves
   * the name once more after our check, so a DNS server answering differently within that instant (rebinding) could
   * still win. Pinning the connection to the checked address (as fetch_url does) would close that gap.
   */
  readonly fetch: FetchLike = async (input, init) => {
    await this.check(new URL(input instanceof URL ? input.href : input));
    return fetch(input, init);
  };

  private async resolve(host: string): Promise<LookupAddress[]> {
    try {
      return await this.lookup(host, { all: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTFOUND is a name that does not exist; anything else (EAI_AGAIN...) may pass.
      throw new ToolError(`Could not resolve ${host}${code ? ` (${code})` : ''}`, code !== 'ENOTFOUND');
    }
  }
}
