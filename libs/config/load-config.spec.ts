import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configSchema } from './config.schema';
import { ConfigError, loadConfig } from './load-config';

const KEY = `k1:k4.local.${Buffer.alloc(32, 1).toString('base64url')}`;
const base = {
  PASETO_KEYS: KEY,
  PASSWORD_PEPPER: 'a-pepper-of-24-characters',
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
  TEMPORAL_PAYLOAD_KEYS: `p1:${Buffer.alloc(32, 3).toString('base64')}`,
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

describe('loadConfig', () => {
  it('runs on its embedded defaults', () => {
    const config = loadConfig({ ...base, GIGACHAT_DATA_DIR: mkdtempSync(join(tmpdir(), 'gc-')) });
    expect(config.api.port).toBe(3000);
    expect(config.database.url).toBe('mysql://root@127.0.0.1:3306/gigachat');
    expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', chatTaskQueue: 'chat' });
    expect(config.llm.baseUrl).toBeUndefined();
    expect(config.auth.tokenKeys).toHaveLength(1);
    expect(config.auth.currentKeyId).toBe('k1');
  });

  it("sizes the worker's vector cache in MiB, and refuses one too small to hold anything", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    expect(loadConfig({ ...base, GIGACHAT_DATA_DIR: dir }).retrieval.vectorCacheBytes).toBe(512 * 1024 * 1024);
    const large = loadConfig({ ...base, GIGACHAT_DATA_DIR: dir, RETRIEVAL_VECTOR_CACHE_MB: '2048' });
    expect(large.retrieval.vectorCacheBytes).toBe(2048 * 1024 * 1024);
    expect(problemsOf({ ...base, RETRIEVAL_VECTOR_CACHE_MB: '1' })[0]).toMatch(/^RETRIEVAL_VECTOR_CACHE_MB:/);
  });

  it("takes PUBLIC_URL as browsers' address, else the API's own (a wildcard listen address as loopback)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    const publicUrl = (env: Record<string, string>) =>
      loadConfig({ ...base, GIGACHAT_DATA_DIR: dir, ...env }).api.publicUrl;
    expect(publicUrl({})).toBe('http://127.0.0.1:3000');
    expect(publicUrl({ API_HOST: '0.0.0.0', API_PORT: '8080' })).toBe('http://127.0.0.1:8080');
    expect(publicUrl({ API_HOST: '::1' })).toBe('http://[::1]:3000');
    expect(publicUrl({ PUBLIC_URL: 'https://chat.example.com/' })).toBe('https://chat.example.com');
    expect(problemsOf({ ...base, PUBLIC_URL: 'not a url' })[0]).toMatch(/^PUBLIC_URL:/);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      ...base,
      API_PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'postgres://x/y',
      LLM_BASE_URL: 'not a url',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'API_PORT',
      'DATABASE_URL',
      'LLM_BASE_URL',
      'LOG_LEVEL',
    ]);
  });

  it('ENCRYPTION_AT_REST=off drops both key sets outside production and is refused in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    const on = loadConfig({ ...base, GIGACHAT_DATA_DIR: dir });
    expect([on.temporal.payloadKeys.length, on.files.encryptionKeys.length]).toEqual([1, 1]);
    const off = loadConfig({ ...base, GIGACHAT_DATA_DIR: dir, ENCRYPTION_AT_REST: 'off' });
    expect([off.temporal.payloadKeys, off.files.encryptionKeys]).toEqual([[], []]);
    expect(problemsOf({ ...base, NODE_ENV: 'production', ENCRYPTION_AT_REST: 'off' })).toContain(
      'ENCRYPTION_AT_REST: "off" is for benchmarks and debugging, never production',
    );
    expect(problemsOf({ ...base, ENCRYPTION_AT_REST: 'maybe' })[0]).toMatch(/^ENCRYPTION_AT_REST:/);
  });

  it('refuses to start in production without its secrets', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((problem) => problem.startsWith('PASETO_KEYS:'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('PASSWORD_PEPPER:'))).toBe(true);
    expect(problems).toContain('TOTP_ENCRYPTION_KEY: required in production (base64 of 32 random bytes)');
    expect(problems).toContain('TEMPORAL_PAYLOAD_KEYS: required in production (e.g. "p1:<base64 of 32 random bytes>")');
    expect(problems).toContain('FILES_ENCRYPTION_KEYS: required in production (e.g. "f1:<base64 of 32 random bytes>")');
  });

  it('reads TOTP_ENCRYPTION_KEY as base64 of 32 bytes, and names a bad one without echoing it', () => {
    const key = Buffer.alloc(32, 5);
    const config = loadConfig({ ...base, TOTP_ENCRYPTION_KEY: key.toString('base64') });
    expect(Buffer.from(config.auth.totpEncryptionKey).equals(key)).toBe(true);
    for (const bad of [Buffer.alloc(16, 5).toString('base64'), 'c2VjcmV0LWJ1dC10b28tc2hvcnQ', 'not base64 at all!']) {
      const problems = problemsOf({ ...base, TOTP_ENCRYPTION_KEY: bad });
      expect(problems).toEqual(['TOTP_ENCRYPTION_KEY: must be base64 of exactly 32 bytes']);
      expect(problems.join('\n')).not.toContain(bad);
    }
  });

  it('rejects malformed keys and an unknown current key id without echoing the key', () => {
    const problems = problemsOf({ ...base, PASETO_KEYS: 'k1:c2VjcmV0', PASETO_CURRENT_KEY_ID: 'k9' });
    expect(problems.join('\n')).toContain('PASETO_KEYS: key "k1"');
    expect(problems.join('\n')).not.toContain('c2VjcmV0');
    expect(problemsOf({ ...base, PASETO_CURRENT_KEY_ID: 'k9' })).toEqual([
      'PASETO_CURRENT_KEY_ID: "k9" is not one of the ids in PASETO_KEYS',
    ]);
  });

  it('creates development secrets once, private to the owner, and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    const first = loadConfig({ GIGACHAT_DATA_DIR: dir });
    const second = loadConfig({ GIGACHAT_DATA_DIR: dir });
    expect(second.auth.passwordPepper).toBe(first.auth.passwordPepper);
    expect(Buffer.from(second.auth.tokenKeys[0]!.key).equals(Buffer.from(first.auth.tokenKeys[0]!.key))).toBe(true);
    expect(first.auth.totpEncryptionKey).toHaveLength(32);
    expect(Buffer.from(second.auth.totpEncryptionKey).equals(Buffer.from(first.auth.totpEncryptionKey))).toBe(true);
    expect(statSync(join(dir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('derives a stable TOTP key from a dev-secrets.json written before the key existed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    const old = { pasetoKeys: KEY, passwordPepper: 'an-old-dev-pepper-0123456789' };
    writeFileSync(join(dir, 'dev-secrets.json'), JSON.stringify(old), { mode: 0o600 });
    const first = loadConfig({ GIGACHAT_DATA_DIR: dir });
    const second = loadConfig({ GIGACHAT_DATA_DIR: dir });
    expect(first.auth.passwordPepper).toBe(old.passwordPepper);
    expect(first.auth.totpEncryptionKey).toHaveLength(32);
    expect(Buffer.from(second.auth.totpEncryptionKey).equals(Buffer.from(first.auth.totpEncryptionKey))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'dev-secrets.json'), 'utf8'))).toEqual(old);
  });

  it('is documented: .env.example lists exactly the variables the schema reads', () => {
    const example = readFileSync(resolve(__dirname, '../../.env.example'), 'utf8');
    const documented = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });
});
