import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CommandError, stringOption, type Command } from '../command';
import { newTokenKeyEntry } from '../token-keys';

/** The deployment's secrets: GigaChat's own, and those of the services docker-compose.yml runs beside it. */
function newSecrets(keyId: string): Record<string, string> {
  const hex = () => randomBytes(24).toString('hex');
  const mysqlPassword = hex();
  const redisPassword = hex();
  return {
    // GigaChat (PASETO_KEYS, PASSWORD_PEPPER, TOTP_ENCRYPTION_KEY, TEMPORAL_PAYLOAD_KEYS, FILES_ENCRYPTION_KEYS)
    paseto_keys: newTokenKeyEntry(keyId),
    password_pepper: randomBytes(32).toString('base64url'),
    totp_encryption_key: randomBytes(32).toString('base64'),
    temporal_payload_keys: `p1:${randomBytes(32).toString('base64')}`,
    files_encryption_keys: `f1:${randomBytes(32).toString('base64')}`,
    // docker-compose.yml: MySQL (root, GigaChat's user, Temporal's user), Redis, S3, SearxNG, Grafana
    mysql_root_password: hex(),
    mysql_password: mysqlPassword,
    database_url: `mysql://gigachat:${mysqlPassword}@mysql:3306/gigachat`,
    temporal_mysql_password: hex(),
    redis_password: redisPassword,
    redis_url: `redis://:${redisPassword}@redis:6379/0`,
    s3_access_key: `gigachat${randomBytes(4).toString('hex')}`,
    s3_secret_key: hex(),
    searxng_secret: hex(),
    grafana_admin_password: hex(),
    // Prometheus's bearer token for the API's /metrics and the workers' (profile `monitoring`).
    metrics_token: hex(),
  };
}

/** Which variable each file of GigaChat's own feeds (the rest are the compose services'). */
const VARIABLE_OF: Record<string, string> = {
  paseto_keys: 'PASETO_KEYS',
  password_pepper: 'PASSWORD_PEPPER',
  totp_encryption_key: 'TOTP_ENCRYPTION_KEY',
  temporal_payload_keys: 'TEMPORAL_PAYLOAD_KEYS',
  files_encryption_keys: 'FILES_ENCRYPTION_KEYS',
  database_url: 'DATABASE_URL',
  redis_url: 'REDIS_URL',
  s3_access_key: 'S3_ACCESS_KEY',
  s3_secret_key: 'S3_SECRET_KEY',
  metrics_token: 'METRICS_TOKEN',
};

export const secretsCommand: Command = {
  name: 'secrets',
  summary: 'generate the secrets of a new deployment (PASETO_KEYS, pepper, encryption key, service passwords)',
  help: [
    'usage: gigachat secrets [--dir <directory>] [--key-id <id>] [--force]',
    '',
    'Without --dir: prints PASETO_KEYS, PASETO_CURRENT_KEY_ID, PASSWORD_PEPPER, TOTP_ENCRYPTION_KEY,',
    'TEMPORAL_PAYLOAD_KEYS and FILES_ENCRYPTION_KEYS as environment lines (for a .env file). With --dir: writes one file per secret (mode 0600) in the layout',
    'docker-compose.yml reads (deploy/docker/secrets): GigaChat’s own and those of MySQL, Redis, S3, SearxNG and',
    'Grafana.',
    '',
    '  --dir <directory>  write files instead of printing; existing files are kept unless --force',
    '  --key-id <id>      id of the first access-token key (default k1)',
    '  --force            overwrite existing secret files (every session and 2FA enrolment is lost)',
  ].join('\n'),
  options: { dir: { type: 'string' }, 'key-id': { type: 'string' }, force: { type: 'boolean' } },
  needsConfig: false,
  run(input) {
    const keyId = stringOption(input, 'key-id') ?? 'k1';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) throw new CommandError('--key-id: 1-32 letters, digits, _ or -');
    const secrets = newSecrets(keyId);
    const dir = stringOption(input, 'dir');
    if (dir === undefined) {
      input.out(`PASETO_KEYS=${secrets.paseto_keys}`);
      input.out(`PASETO_CURRENT_KEY_ID=${keyId}`);
      input.out(`PASSWORD_PEPPER=${secrets.password_pepper}`);
      input.out(`TOTP_ENCRYPTION_KEY=${secrets.totp_encryption_key}`);
      input.out(`TEMPORAL_PAYLOAD_KEYS=${secrets.temporal_payload_keys}`);
      input.out(`FILES_ENCRYPTION_KEYS=${secrets.files_encryption_keys}`);
      return Promise.resolve();
    }
    const target = resolve(dir);
    mkdirSync(target, { recursive: true, mode: 0o700 });
    for (const [name, value] of Object.entries(secrets)) {
      const path = join(target, name);
      if (existsSync(path) && input.options.force !== true) {
        input.out(`kept     ${path} (exists; --force replaces it)`);
        continue;
      }
      writeFileSync(path, `${value}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
      const variable = VARIABLE_OF[name];
      input.out(`written  ${path}${variable ? ` (${variable}_FILE=${path})` : ''}`);
    }
    return Promise.resolve();
  },
};
