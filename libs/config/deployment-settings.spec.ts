import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_VARIABLES } from './config.schema';
import { ConfigError, loadConfig } from './load-config';
import { temporalConnectionOptions } from './temporal-connection';
import { parseTrustProxy } from './trust-proxy';

const KEY = `k1:k4.local.${Buffer.alloc(32, 1).toString('base64url')}`;
const TOTP_KEY = Buffer.alloc(32, 2).toString('base64');
const PAYLOAD_KEYS = `p1:${Buffer.alloc(32, 3).toString('base64')}`;
const base = {
  PASETO_KEYS: KEY,
  PASSWORD_PEPPER: 'a-pepper-of-24-characters',
  TOTP_ENCRYPTION_KEY: TOTP_KEY,
  TEMPORAL_PAYLOAD_KEYS: PAYLOAD_KEYS,
  FILES_ENCRYPTION_KEYS: `f1:${Buffer.alloc(32, 4).toString('base64')}`,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** A file in a fresh directory holding `content`; answers its path. */
function fileWith(content: string | Buffer, name = 'value'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gc-config-')), name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('TRUST_PROXY', () => {
  it('defaults to loopback: only a proxy on the same host may name the client', () => {
    expect(loadConfig(base).api.trustProxy).toEqual(['loopback']);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8, 192.168.1.10', ['10.0.0.0/8', '192.168.1.10']],
    ['loopback,uniquelocal,fd00::/8', ['loopback', 'uniquelocal', 'fd00::/8']],
  ])('reads %s', (value, expected) => {
    expect(loadConfig({ ...base, TRUST_PROXY: value }).api.trustProxy).toEqual(expected);
  });

  it.each(['everyone', '10.0.0.0/33', '300.1.1.1', '64', '10.0.0.1/8/1'])(
    'refuses %s, naming the variable',
    (value) => {
      const problems = problemsOf({ ...base, TRUST_PROXY: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: /);
    },
  );

  it('parses addresses of both families and checks prefix lengths', () => {
    expect(parseTrustProxy('::1/128')).toEqual({ value: ['::1/128'] });
    expect(parseTrustProxy('::1/129')).toHaveProperty('problem');
  });
});

describe('REGISTRATION', () => {
  it('is open in development and test, invite-only in production', () => {
    expect(loadConfig(base).auth.registration).toBe('open');
    expect(loadConfig({ ...base, NODE_ENV: 'test' }).auth.registration).toBe('open');
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).auth.registration).toBe('invite');
  });

  it('takes open, invite or closed whatever NODE_ENV says, and refuses anything else', () => {
    expect(loadConfig({ ...base, NODE_ENV: 'production', REGISTRATION: 'open' }).auth.registration).toBe('open');
    expect(loadConfig({ ...base, REGISTRATION: 'closed' }).auth.registration).toBe('closed');
    expect(problemsOf({ ...base, REGISTRATION: 'sometimes' })[0]).toMatch(/^REGISTRATION: /);
  });
});

describe('*_FILE secrets', () => {
  it('has a _FILE variant for every secret variable', () => {
    expect(SECRET_VARIABLES).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'PASETO_KEYS',
        'PASSWORD_PEPPER',
        'TOTP_ENCRYPTION_KEY',
        'S3_SECRET_KEY',
      ]),
    );
  });

  it('reads each secret from its file, without the trailing line break', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PASETO_KEYS_FILE: fileWith(`${KEY}\n`),
      PASSWORD_PEPPER_FILE: fileWith('a-pepper-from-a-docker-secret\n'),
      TOTP_ENCRYPTION_KEY_FILE: fileWith(TOTP_KEY),
      TEMPORAL_PAYLOAD_KEYS_FILE: fileWith(`${PAYLOAD_KEYS}\n`),
      FILES_ENCRYPTION_KEYS_FILE: fileWith(`f1:${Buffer.alloc(32, 4).toString('base64')}`),
      DATABASE_URL_FILE: fileWith('mysql://gigachat:s3cret@db:3306/gigachat\n'),
      REDIS_URL_FILE: fileWith('redis://:pw@cache:6379/1\n'),
      LLM_API_KEY_FILE: fileWith('sk-from-file\n'),
      LLM_BASE_URL: 'http://llm.internal/v1',
      S3_ENDPOINT: 'http://s3.internal:8333',
      S3_ACCESS_KEY_FILE: fileWith('access\n'),
      S3_SECRET_KEY_FILE: fileWith('secret-key\n'),
      EMBEDDING_API_KEY_FILE: fileWith('emb-key'),
      TEMPORAL_API_KEY_FILE: fileWith('temporal-cloud-key\n'),
    });
    expect(config.auth.passwordPepper).toBe('a-pepper-from-a-docker-secret');
    expect(config.auth.tokenKeys.map((key) => key.id)).toEqual(['k1']);
    expect(config.database.url).toBe('mysql://gigachat:s3cret@db:3306/gigachat');
    expect(config.redis.url).toBe('redis://:pw@cache:6379/1');
    expect(config.llm.providers[0]).toMatchObject({ apiKey: 'sk-from-file' });
    expect(config.files.s3).toMatchObject({ accessKey: 'access', secretKey: 'secret-key' });
    expect(config.temporal.apiKey).toBe('temporal-cloud-key');
    expect(config.temporal.payloadKeys.map((key) => key.id)).toEqual(['p1']);
    expect(config.files.encryptionKeys.map((key) => key.id)).toEqual(['f1']);
    expect(Object.keys(config.secretFiles).sort()).toEqual([
      'DATABASE_URL',
      'EMBEDDING_API_KEY',
      'FILES_ENCRYPTION_KEYS',
      'LLM_API_KEY',
      'PASETO_KEYS',
      'PASSWORD_PEPPER',
      'REDIS_URL',
      'S3_ACCESS_KEY',
      'S3_SECRET_KEY',
      'TEMPORAL_API_KEY',
      'TEMPORAL_PAYLOAD_KEYS',
      'TOTP_ENCRYPTION_KEY',
    ]);
  });

  it('refuses a variable set both ways, a missing file and an empty one, without echoing any value', () => {
    const problems = problemsOf({
      ...base,
      PASSWORD_PEPPER_FILE: fileWith('another-pepper-of-24-chars'),
      LLM_API_KEY_FILE: '/nonexistent/gigachat/llm-key',
      S3_SECRET_KEY_FILE: fileWith('\n'),
    });
    expect(problems).toEqual([
      'LLM_API_KEY_FILE: cannot read /nonexistent/gigachat/llm-key (ENOENT)',
      expect.stringMatching(/^S3_SECRET_KEY_FILE: .* is empty$/),
      'PASSWORD_PEPPER_FILE: set either PASSWORD_PEPPER or PASSWORD_PEPPER_FILE, not both',
    ]);
    expect(problems.join('\n')).not.toContain('pepper-of');
  });

  it('validates a value read from a file like any other', () => {
    const problems = problemsOf({ ...base, DATABASE_URL_FILE: fileWith('postgres://nope/db\n') });
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: /)]);
  });
});

describe('Temporal TLS, mTLS and API key', () => {
  it('connects in plain TCP by default (the local dev server)', () => {
    const config = loadConfig(base);
    expect(config.temporal.tls).toBeUndefined();
    expect(temporalConnectionOptions(config.temporal)).toEqual({ address: '127.0.0.1:7233', tls: false });
  });

  it('turns TLS on for an API key (Temporal Cloud), with the namespace as given', () => {
    const config = loadConfig({
      ...base,
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'gigachat.a1b2c',
      TEMPORAL_API_KEY: 'cloud-key',
    });
    expect(config.temporal.namespace).toBe('gigachat.a1b2c');
    expect(temporalConnectionOptions(config.temporal)).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'cloud-key',
    });
  });

  it('reads the CA, the client certificate and key for mTLS, and the server name', () => {
    const config = loadConfig({
      ...base,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: fileWith('-----CA-----'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: fileWith('-----CERT-----'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: fileWith('-----KEY-----'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = temporalConnectionOptions(config.temporal).tls;
    expect(tls).toEqual({
      serverRootCACertificate: Buffer.from('-----CA-----'),
      clientCertPair: { crt: Buffer.from('-----CERT-----'), key: Buffer.from('-----KEY-----') },
      serverNameOverride: 'temporal.internal',
    });
    expect(loadConfig({ ...base, TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
  });

  it('names every inconsistency: half a certificate pair, unreadable files, TLS off with TLS settings', () => {
    expect(
      problemsOf({
        ...base,
        TEMPORAL_TLS_CLIENT_CERT_PATH: fileWith('-----CERT-----'),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem',
      }),
    ).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: set both for mTLS, or neither',
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read /nonexistent/ca.pem (ENOENT)',
    ]);
    expect(problemsOf({ ...base, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toEqual([
      'TEMPORAL_TLS: is false, but an API key, certificate or server name for TLS is set',
    ]);
    expect(problemsOf({ ...base, TEMPORAL_TLS: 'maybe' })[0]).toMatch(/^TEMPORAL_TLS: /);
  });
});
