import { isIP } from 'node:net';

/** What Express's `trust proxy` setting is given: trust all or none, a hop count, or addresses/ranges/names. */
export type TrustProxy = boolean | number | string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Reads `TRUST_PROXY`: `true`/`false`, a hop count (`1` = the nearest proxy), or a comma-separated list of addresses,
 * CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`. Answers the value or the reason it is not one.
 */
export function parseTrustProxy(value: string): { value: TrustProxy } | { problem: string } {
  const text = value.trim().toLowerCase();
  if (text === 'true') return { value: true };
  if (text === 'false' || text === '') return { value: false };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops <= 32 ? { value: hops } : { problem: 'a hop count must be at most 32' };
  }
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.filter((entry) => !NAMED_RANGES.has(entry) && !isAddressOrRange(entry));
  if (bad.length > 0) {
    return {
      problem: `not an address, CIDR range, loopback, linklocal or uniquelocal: ${bad.join(', ')} (or use true, false or a hop count)`,
    };
  }
  return { value: entries };
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
