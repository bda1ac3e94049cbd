import { parseSecretBoxKey } from '../auth/secret-box';

/** `id:base64key,id:base64key` (the first seals, all open): the Temporal payload codec's keys. */
export function parsePayloadKeys(value: string, problems: string[]): { id: string; key: Uint8Array }[] {
  return parseKeyList('TEMPORAL_PAYLOAD_KEYS', value, problems);
}

/**
 * A comma-separated list of `id:key` entries named by `variable` (every problem names it): AES-256 keys in base64 by
 * default, or whatever `parse` reads.
 */
export function parseKeyList<Key = Uint8Array>(
  variable: string,
  value: string,
  problems: string[],
  reader: { format: string; parse: (text: string) => Key } = {
    format: '<keyId>:<base64 of 32 bytes>',
    parse: parseSecretBoxKey as unknown as (text: string) => Key,
  },
): { id: string; key: Key }[] {
  const keys: { id: string; key: Key }[] = [];
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      problems.push(`${variable}: each entry must be "${reader.format}" with a key id of 1-32 letters, digits, _ or -`);
      continue;
    }
    if (keys.some((key) => key.id === id)) {
      problems.push(`${variable}: key id "${id}" appears twice`);
      continue;
    }
    try {
      keys.push({ id, key: reader.parse(entry.slice(separator + 1)) });
    } catch (error) {
      problems.push(`${variable}: key "${id}": ${(error as Error).message}`);
    }
  }
  return keys;
}
