import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DevSecrets {
  pasetoKeys: string;
  passwordPepper: string;
  totpEncryptionKey: string;
  temporalPayloadKeys: string;
  filesEncryptionKeys: string;
}

/**
 * Development's and tests' secrets: random, written once to `path` (mode 0600) and read back after, so a restart does
 * not log everyone out and every process started from the same data directory (API, worker, parallel tests) shares
 * them. Never used in production, which must be given its secrets.
 */
export function devSecrets(path: string): DevSecrets {
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Omit<
      DevSecrets,
      'totpEncryptionKey' | 'temporalPayloadKeys' | 'filesEncryptionKeys'
    > &
      Partial<DevSecrets>;
    // A file written before TOTP_ENCRYPTION_KEY existed lacks the key. Derive it from the file's random pepper rather
    // than rewrite the file: every process that reads the same file (API, worker, parallel tests) gets the same key.
    const totpEncryptionKey =
      stored.totpEncryptionKey ??
      Buffer.from(hkdfSync('sha256', stored.passwordPepper, '', 'gigachat dev totp-encryption-key', 32)).toString(
        'base64',
      );
    // Likewise for TEMPORAL_PAYLOAD_KEYS, added later still.
    const temporalPayloadKeys =
      stored.temporalPayloadKeys ??
      `dev1:${Buffer.from(hkdfSync('sha256', stored.passwordPepper, '', 'gigachat dev temporal-payload-key', 32)).toString('base64')}`;
    const filesEncryptionKeys =
      stored.filesEncryptionKeys ??
      `dev1:${Buffer.from(hkdfSync('sha256', stored.passwordPepper, '', 'gigachat dev files-encryption-key', 32)).toString('base64')}`;
    return { ...stored, totpEncryptionKey, temporalPayloadKeys, filesEncryptionKeys };
  }
  const secrets: DevSecrets = {
    pasetoKeys: `dev1:k4.local.${randomBytes(32).toString('base64url')}`,
    passwordPepper: randomBytes(32).toString('base64url'),
    totpEncryptionKey: randomBytes(32).toString('base64'),
    temporalPayloadKeys: `dev1:${randomBytes(32).toString('base64')}`,
    filesEncryptionKeys: `dev1:${randomBytes(32).toString('base64')}`,
  };
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process (API or worker) started at the same moment and wrote them first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return devSecrets(path);
    throw error;
  }
  chmodSync(path, 0o600);
  return secrets;
}
