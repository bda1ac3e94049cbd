import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../apps/api/src/create-app';
import { RunningWorker, startWorker } from '../../apps/worker/src/worker';
import type { AppConfig } from '../../libs/config/app-config';
import { createDataSource, migrateDatabase, splitDatabaseUrl } from '../../libs/db/data-source';
import type { LlmProvider } from '../../libs/llm/llm-provider';
import { createLogger } from '../../libs/logging/logger';
import { FakeLlm, FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.server';
import { testConfig, testEnv } from './test-env';

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
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Start the fake OpenAI-compatible server and point the worker at it (default true). */
  fakeLlm?: boolean | FakeLlmOptions;
  /** Run a worker in this process (default true). The crash test runs its own in child processes. */
  worker?: boolean;
  llmProvider?: LlmProvider;
  env?: Record<string, string>;
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
  const env = testEnv(name, { ...(llm ? { LLM_BASE_URL: llm.url, LLM_MODEL: 'fake-model' } : {}), ...options.env });
  const config = testConfig(env);
  await migrateDatabase(config.database.url);
  const logger = createLogger({ level: config.logLevel, name: `test-${name}` });

  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, logger, options.llmProvider ? { llm: options.llmProvider } : {});
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const baseUrl = await app.getUrl();
  const db = await createDataSource(config.database.url, 2).initialize();
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });

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
    async close() {
      await app.close();
      await worker?.shutdown();
      await connection.close();
      const { database } = splitDatabaseUrl(config.database.url);
      await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await db.destroy();
      await llm?.close();
      await deleteRedisKeys(config.redis.url, config.redis.keyPrefix);
    },
  };
}

/** Registers, logs in and returns an Authorization header value. */
export async function signUp(
  h: Harness,
  who = 'ada',
): Promise<{ auth: string; userId: string; email: string; password: string }> {
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
