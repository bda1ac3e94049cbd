import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { IpAddressPolicy } from '../tools/builtin/ip-address-policy';
import { ToolError } from '../tools/tool-definition';
import { fetchThroughLookup } from './checked-fetch';

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
    if (isIP(host)) this.policy.check(host);
    else await this.resolveChecked(host);
  }

  /** Every address `host` resolves to, once each has passed the policy (the OS, not us, picks among them). */
  private async resolveChecked(host: string): Promise<LookupAddress[]> {
    const answers = await this.resolve(host);
    if (answers.length === 0) throw new ToolError(`Could not resolve ${host}`, true);
    for (const answer of answers) this.policy.check(answer.address);
    return answers;
  }

  /**
   * Resolves `host` and throws unless every address passes the policy: the lookup MCP connections are made through
   * (`fetch`), so a socket only ever reaches an address checked in that same resolution.
   */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    this.resolveChecked(hostname)
      .then((answers) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const wanted = family ? answers.filter((answer) => answer.family === family) : answers;
        if (wanted.length === 0) throw new ToolError(`${hostname} has no IPv${family} address`, true);
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, ''));
  };

  private readonly connections = fetchThroughLookup(this.checkedLookup);

  /**
   * A fetch for the MCP transport. Each request's URL is checked again before it is sent, so a server that passed at
   * connect time and whose name now resolves inside is refused with a clear error; and the connection itself is made
   * through {@link checkedLookup}, so a DNS answer that changes between that check and the connection (rebinding)
   * is checked too instead of being used blindly.
   */
  readonly fetch: FetchLike = async (input, init) => {
    await this.check(new URL(input instanceof URL ? input.href : input));
    return this.connections.fetch(input, init);
  };

  /** Closes the kept-alive connections. */
  close(): void {
    this.connections.close();
  }

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
