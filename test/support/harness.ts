import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { Client as MinioClient } from 'minio';
import { rm } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../apps/api/src/create-app';
import { RunningWorker, startWorker } from '../../apps/worker/src/worker';
import type { AppConfig } from '#libs/config/app-config';
import { createDataSource, migrateDatabase, splitDatabaseUrl } from '#libs/db/data-source';
import type { LlmProvider } from '#libs/llm/llm-provider';
import { createLogger } from '#libs/logging/logger';
import { createObjectStore } from '#libs/storage/create-object-store';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import type { ObjectStore } from '#libs/storage/object-store';
import { FakeLlm, FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.server';
import { TEST_DATA_DIR, testConfig, testEnv, uniqueSuffix } from './test-env';

export interface Harness {
  config: AppConfig;
  env: Record<string, string>;
  app: NestExpressApplication;
  http: ReturnType<typeof request>;
  baseUrl: string;
  db: DataSource;
  temporal: Client;
  llm?: FakeLlm;
  worker?: RunningWorker;
  /** The object store the API and the worker use (S3 with `s3: true`, else this test's own directory). */
  store: ObjectStore;
  close(): Promise<void>;
}

/** The local SeaweedFS S3 gateway that `deploy/services.sh up` starts. */
export const TEST_S3 = {
  endPoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:8333',
  accessKey: 'gigachat',
  secretKey: 'gigachat-secret-key',
};

export interface HarnessOptions {
  /** Start the fake OpenAI-compatible server and point the worker at it (default true). */
  fakeLlm?: boolean | FakeLlmOptions;
  /** Run a worker in this process (default true). The crash test runs its own in child processes. */
  worker?: boolean;
  llmProvider?: LlmProvider;
  env?: Record<string, string>;
  /** Store files in a bucket of this test's own on the local S3 server instead of a directory (default false). */
  s3?: boolean;
  /** Where the API's and the in-process worker's log lines go (JSON lines); default stdout (LOG_LEVEL silent). */
  logDestination?: NodeJS.WritableStream;
}

/**
 * The real stack for one test file: a fresh MySQL database with migrations applied, the API on a free port,
 * a worker on a task queue of its own, the real Temporal dev server and Redis, and a fake LLM.
 */
export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const llm =
    options.fakeLlm === false
      ? undefined
      : await startFakeLlm(typeof options.fakeLlm === 'object' ? options.fakeLlm : {});
  const s3: Record<string, string> = options.s3
    ? {
        S3_ENDPOINT: TEST_S3.endPoint,
        S3_ACCESS_KEY: TEST_S3.accessKey,
        S3_SECRET_KEY: TEST_S3.secretKey,
        S3_BUCKET: `gctest-${uniqueSuffix()}`,
      }
    : {};
  const env = testEnv(name, {
    ...(llm ? { LLM_BASE_URL: llm.url, LLM_MODEL: 'fake-model' } : {}),
    ...s3,
    ...options.env,
  });
  const config = testConfig(env);
  await migrateDatabase(config.database.url);
  const logger = createLogger({
    level: config.logLevel,
    name: `test-${name}`,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });

  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, logger, options.llmProvider ? { llm: options.llmProvider } : {});
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const baseUrl = await app.getUrl();
  const db = await createDataSource(config.database.url, 2).initialize();
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: temporalDataConverter(config.temporal),
  });
  const store = createObjectStore({
    s3: config.files.s3,
    localDir: config.files.localDir,
    encryptionKeys: config.files.encryptionKeys,
  });
  await store.ensureReady();

  return {
    config,
    env,
    app,
    http: request(app.getHttpServer()),
    baseUrl: baseUrl.replace('[::1]', '127.0.0.1'),
    db,
    temporal,
    llm,
    worker,
    store,
    async close() {
      await app.close();
      await worker?.shutdown();
      await connection.close();
      const { database } = splitDatabaseUrl(config.database.url);
      await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await db.destroy();
      await llm?.close();
      await deleteRedisKeys(config.redis.url, config.redis.keyPrefix);
      await removeFiles(config);
    },
  };
}

/** A user that `signUp` registered and logged in; `auth` is the Authorization header value. */
export interface TestUser {
  auth: string;
  userId: string;
  email: string;
  password: string;
}

/** Registers, logs in and returns an Authorization header value. */
export async function signUp(h: Harness, who = 'ada'): Promise<TestUser> {
  const email = `${who}.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = `correct horse ${who} battery staple`;
  const registered = await h.http.post('/api/v1/auth/register').send({ email, password, displayName: who });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.text}`);
  const login = await h.http.post('/api/v1/auth/login').send({ email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { auth: `Bearer ${login.body.accessToken}`, userId: registered.body.user.id, email, password };
}

export async function count(h: Harness, table: string): Promise<number> {
  const rows: { n: string | number }[] = await h.db.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number(rows[0]?.n ?? 0);
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Removes this test's uploaded files: its bucket on the S3 server, or its directory under .data/test. */
async function removeFiles(config: AppConfig): Promise<void> {
  const { s3, localDir } = config.files;
  if (s3) {
    const url = new URL(s3.endPoint);
    const client = new MinioClient({
      endPoint: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      useSSL: url.protocol === 'https:',
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: s3.region,
    });
    if (!s3.bucket.startsWith('gctest-') || !(await client.bucketExists(s3.bucket))) return;
    const names: string[] = [];
    for await (const item of client.listObjectsV2(s3.bucket, '', true)) {
      if (typeof item.name === 'string') names.push(item.name);
    }
    if (names.length > 0) await client.removeObjects(s3.bucket, names);
    await client.removeBucket(s3.bucket);
    return;
  }
  // Only ever a directory inside .data/test (FILES_DIR from testEnv), never one a caller pointed elsewhere.
  const inside = relative(TEST_DATA_DIR, localDir);
  if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside))
    await rm(localDir, { recursive: true, force: true });
}

/** Removes every key under this harness's own prefix (lockout levels, rate-limit counters, turn streams). */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  if (prefix === '') return; // never sweep a whole Redis database
  const redis = new Redis(url);
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** The audit rows of one action on one target, oldest first, with their metadata parsed. */
export async function auditRows(
  h: Harness,
  action: string,
  targetId: string,
): Promise<{ actorId: string | null; metadata: unknown }[]> {
  const rows: { actor_id: string | null; metadata: unknown }[] = await h.db.query(
    'SELECT actor_id, metadata FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id',
    [action, targetId],
  );
  return rows.map((row) => ({
    actorId: row.actor_id,
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as unknown) : row.metadata,
  }));
}
