import { randomBytes } from 'node:crypto';
import type { AppConfig } from '#libs/config/app-config';

/** A new access-token key as PASETO_KEYS lists it: `<id>:k4.local.<base64url of 32 random bytes>`. */
export function newTokenKeyEntry(id: string): string {
  return `${id}:k4.local.${randomBytes(32).toString('base64url')}`;
}

/** The keys as a PASETO_KEYS value, in order (the configuration read them from any of the accepted spellings). */
export function formatTokenKeys(keys: AppConfig['auth']['tokenKeys']): string {
  return keys.map((key) => `${key.id}:k4.local.${Buffer.from(key.key).toString('base64url')}`).join(',');
}
