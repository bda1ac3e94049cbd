import { isIP } from 'node:net';
import { ToolError } from '../tool-definition';

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
type AddressBytes = readonly number[];

interface Range {
  bytes: AddressBytes;
  prefix: number;
}

interface NamedRange extends Range {
  reason: string;
}

/**
 * IPv4 ranges that are not the public internet. The list is the IANA special-purpose registry minus the globally
 * reachable entries; order matters only for the message (broadcast before the reserved block that holds it).
 */
const IPV4_NON_PUBLIC: readonly NamedRange[] = [
  ['0.0.0.0/8', 'a "this network" address'],
  ['10.0.0.0/8', 'a private address'],
  ['100.64.0.0/10', 'a carrier-grade NAT address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.0.0/16', 'a link-local address'], // includes the cloud metadata service, 169.254.169.254
  ['172.16.0.0/12', 'a private address'],
  ['192.0.0.0/24', 'a reserved address'],
  ['192.0.2.0/24', 'a documentation address'],
  ['192.88.99.0/24', 'a reserved address'],
  ['192.168.0.0/16', 'a private address'],
  ['198.18.0.0/15', 'a benchmarking address'],
  ['198.51.100.0/24', 'a documentation address'],
  ['203.0.113.0/24', 'a documentation address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['255.255.255.255/32', 'the broadcast address'],
  ['240.0.0.0/4', 'a reserved address'],
].map(([cidr, reason]) => ({ ...parseCidr(cidr!), reason: reason! }));

/** Only 2000::/3 is global unicast; inside it, these blocks are not the public internet either. */
const IPV6_GLOBAL_UNICAST = parseCidr('2000::/3');
const IPV6_NON_PUBLIC: readonly NamedRange[] = [
  ['::/128', 'the unspecified address'],
  ['::1/128', 'a loopback address'],
  ['fc00::/7', 'a private (unique-local) address'],
  ['fe80::/10', 'a link-local address'],
  ['ff00::/8', 'a multicast address'],
  ['2001::/32', 'a Teredo tunnel address'],
  ['2001:db8::/32', 'a documentation address'],
  ['2001:2::/48', 'a benchmarking address'],
  ['2001:10::/28', 'a reserved address'],
].map(([cidr, reason]) => ({ ...parseCidr(cidr!), reason: reason! }));

/** IPv6 forms that carry an IPv4 address: IPv4-mapped, NAT64 (RFC 6052), 6to4. Judged by the IPv4 inside. */
const IPV4_MAPPED = parseCidr('::ffff:0:0/96');
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');

/**
 * Decides which IP addresses `fetch_url` may connect to: public internet addresses, plus the networks an operator
 * explicitly allows. Everything else (loopback, private, link-local and the cloud metadata service, CGNAT,
 * multicast, reserved, and IPv6 forms wrapping any of those) is refused, so the model cannot be used to reach
 * services inside our own network (SSRF).
 */
export class IpAddressPolicy {
  private readonly allowed: readonly Range[];

  /** @param allowedNetworks CIDRs reachable even though not public. Tests only, or a vetted internal allowlist. */
  constructor(allowedNetworks: readonly string[] = []) {
    this.allowed = allowedNetworks.map(parseCidr);
  }

  /** Why `address` must not be contacted, or undefined when it may be. */
  refusalReason(address: string): string | undefined {
    const bytes = parseIp(address);
    if (!bytes) return 'not an IP address';
    const candidates = [bytes, embeddedIpv4(bytes)].filter((b): b is AddressBytes => b !== undefined);
    if (candidates.some((b) => this.allowed.some((range) => inRange(b, range)))) return undefined;
    return candidates.map(nonPublicReason).find((reason) => reason !== undefined);
  }

  /** Throws the `ToolError` shown to the model when `address` is refused. */
  check(address: string): void {
    const reason = this.refusalReason(address);
    if (reason) throw new ToolError(`Refused: ${address} is ${reason}`);
  }
}

function nonPublicReason(bytes: AddressBytes): string | undefined {
  if (bytes.length === 4) return IPV4_NON_PUBLIC.find((range) => inRange(bytes, range))?.reason;
  const named = IPV6_NON_PUBLIC.find((range) => inRange(bytes, range));
  if (named) return named.reason;
  if (inRange(bytes, IPV4_MAPPED) || inRange(bytes, NAT64)) return undefined; // judged by the IPv4 inside
  return inRange(bytes, IPV6_GLOBAL_UNICAST) ? undefined : 'a reserved address';
}

/** The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address. */
function embeddedIpv4(bytes: AddressBytes): AddressBytes | undefined {
  if (bytes.length !== 16) return undefined;
  if (inRange(bytes, IPV4_MAPPED) || inRange(bytes, NAT64)) return bytes.slice(12);
  if (inRange(bytes, SIX_TO_FOUR)) return bytes.slice(2, 6);
  return undefined;
}

function inRange(bytes: AddressBytes, range: Range): boolean {
  if (bytes.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const bits = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((range.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

export function parseCidr(cidr: string): Range {
  const [address = '', prefixText] = cidr.split('/');
  const bytes = parseIp(address);
  const prefix = prefixText === undefined ? (bytes?.length ?? 0) * 8 : Number(prefixText);
  if (!bytes || !Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8 || /\s/.test(cidr)) {
    throw new Error(`Invalid CIDR "${cidr}"`);
  }
  return { bytes, prefix };
}

/** Parses an IPv4 or IPv6 address (zone id ignored, brackets allowed) into bytes; undefined if it is neither. */
export function parseIp(text: string): AddressBytes | undefined {
  const address = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const version = isIP(address);
  if (version === 4) return address.split('.').map(Number);
  if (version !== 6) return undefined;
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined): number[] =>
    (part ? part.split(':') : []).flatMap((group) => {
      if (group.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
        return [(a << 8) | b, (c << 8) | d];
      }
      return [parseInt(group, 16)];
    });
  const before = groups(head);
  const after = groups(tail);
  const words =
    tail === undefined ? before : [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}
