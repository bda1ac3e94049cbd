import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AppConfig } from '#libs/config/app-config';
import { loadConfig } from '#libs/config/load-config';

/** Unique names per test file, so files can run in parallel against the same MySQL, Redis and Temporal. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Where tests keep their data (development secrets, uploaded files); git-ignored with the rest of `.data/`. */
export const TEST_DATA_DIR = resolve(__dirname, '../../.data/test');

const TEST_TOKEN_KEY = `t1:k4.local.${Buffer.alloc(32, 7).toString('base64url')}`;
/**
 * The payload codec's key in tests: fixed (not the machine's dev-secrets.json), so the encrypted histories recorded
 * under test/fixtures replay on any machine.
 */
export const TEST_PAYLOAD_KEYS = `test1:${Buffer.alloc(32, 9).toString('base64')}`;

/**
 * The environment a test process gets: the developer's services (env may override hosts), a fresh database name,
 * Redis key prefix and task queue, cheap bcrypt and quiet logs.
 */
export function testEnv(name: string, overrides: Record<string, string> = {}): Record<string, string> {
  const suffix = uniqueSuffix();
  const server = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: `${server}/gc_${name.replace(/[^A-Za-z0-9_]/g, '_')}_${suffix}`,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REDIS_KEY_PREFIX: `gctest:${name}:${suffix}:`,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    WORKER_METRICS_PORT: '0', // a free port each: test files run workers side by side
    TEMPORAL_CHAT_TASK_QUEUE: `chat-${name}-${suffix}`,
    TEMPORAL_INGEST_TASK_QUEUE: `ingest-${name}-${suffix}`,
    TEMPORAL_REPLAY_TASK_QUEUE: `replay-${name}-${suffix}`,
    GIGACHAT_DATA_DIR: TEST_DATA_DIR,
    // Uploaded files of this test alone; the harness removes the directory on close.
    FILES_DIR: resolve(TEST_DATA_DIR, `files-${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${suffix}`),
    PASETO_KEYS: TEST_TOKEN_KEY,
    TEMPORAL_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    PASSWORD_PEPPER: 'test-pepper-0123456789abcdef',
    BCRYPT_COST: '4',
    LLM_TIMEOUT_MS: '5000',
    // Made from the sources by test/support/global-setup.ts; empty outside Jest (the worker then checks dist/'s).
    WORKER_WORKFLOW_BUNDLE: process.env.WORKER_WORKFLOW_BUNDLE ?? '',
    ...overrides,
  };
}

export function testConfig(env: Record<string, string>): AppConfig {
  return loadConfig(env);
}
