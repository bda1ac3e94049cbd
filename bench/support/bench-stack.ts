import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '#libs/config/app-config';
import { loadConfig } from '#libs/config/load-config';
import { createDataSource, migrateDatabase, splitDatabaseUrl } from '#libs/db/data-source';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import { type FakeLlm, startFakeLlm } from '../../test/fakes/fake-llm.server';
import { testEnv } from '../../test/support/test-env';
import type { BenchContext } from '../bench-section';
import { ChildService } from './child-service';
import { RssSampler } from './rss-sampler';

/**
 * The real services for one benchmark section: a fresh MySQL database (migrated), a Redis key prefix and Temporal task
 * queue of its own, the fake LLM in this process, and the API and the worker as child processes built from `dist/`
 * (the worker loads the prebuilt workflow bundle, or rebundles when it is older than the sources). NODE_ENV stays `test`, as in the e2e tests, so
 * secrets that only production requires need not be invented here.
 */
export interface BenchStack {
  config: AppConfig;
  /** The environment the API and the worker were given. */
  env: Record<string, string>;
  baseUrl: string;
  llm: FakeLlm;
  /** The bench's own connection pool to the bench database (same size as the API's). */
  db: DataSource;
  temporal: Client;
  /** A connection with the deployment's key prefix, for in-process work (events, breakers, rate limits). */
  redis: Redis;
  api: ChildService;
  worker: ChildService;
  rss: { api: RssSampler; worker: RssSampler };
  /** Stops everything that was started and drops the database; returns what could not be cleaned up. */
  close(): Promise<string[]>;
}

const READY_TIMEOUT_MS = 90_000;

export async function startBenchStack(
  ctx: BenchContext,
  name: string,
  overrides: Record<string, string> = {},
): Promise<BenchStack> {
  const dist = resolve(ctx.root, 'dist');
  const apiMain = resolve(dist, 'apps/api/src/main.js');
  const workerMain = resolve(dist, 'apps/worker/src/main.js');
  for (const file of [apiMain, workerMain]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  }

  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  let closed: Promise<string[]> | undefined;
  const close = (): Promise<string[]> =>
    (closed ??= (async () => {
      const problems: string[] = [];
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup.run();
        } catch (error) {
          problems.push(`${cleanup.what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return problems;
    })());

  try {
    const llm = await startFakeLlm({ firstTokenDelayMs: 0, tokenDelayMs: 0, recordRequests: false });
    cleanups.push({ what: 'closing the fake LLM', run: () => llm.close() });

    const port = await freePort();
    const env = testEnv(name, {
      // Production's level by default, so the figures include what logging costs (BENCH_LOG_LEVEL to change it).
      LOG_LEVEL: ctx.env.BENCH_LOG_LEVEL || 'info',
      TEMPORAL_ADDRESS: ctx.env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      LLM_BASE_URL: llm.url,
      LLM_MODEL: 'fake-model',
      ACCESS_TOKEN_TTL_SECONDS: '86400',
      // The per-user chat limit stays on (its Redis check is part of a turn's cost) but must not cap the bench.
      RATE_LIMIT_CHAT_MAX: '1000000',
      GIGACHAT_DATA_DIR: resolve(ctx.root, '.data/bench'),
      ...overrides,
    });
    const config = loadConfig(env);

    cleanups.push({ what: 'dropping the bench database', run: () => dropDatabase(config.database.url) });
    await migrateDatabase(config.database.url);
    const db = await createDataSource(config.database.url, config.database.poolSize).initialize();
    cleanups.push({ what: "closing the bench's pool", run: () => db.destroy() });
    cleanups.push({
      what: 'deleting Redis keys',
      run: () => deleteRedisKeys(config.redis.url, config.redis.keyPrefix),
    });

    const connection = await Connection.connect({ address: config.temporal.address });
    cleanups.push({ what: 'closing the Temporal connection', run: () => connection.close() });
    const temporal = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: temporalDataConverter(config.temporal),
    });
    const redis = new Redis(config.redis.url, { keyPrefix: config.redis.keyPrefix, maxRetriesPerRequest: 1 });
    cleanups.push({ what: "closing the bench's Redis connection", run: async () => void (await redis.quit()) });

    const childEnv = { PATH: ctx.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: ctx.env.HOME ?? ctx.root, ...env };
    // BENCH_CPU_PROFILE_DIR=<dir>: the API and the worker write V8 CPU profiles there when they stop (open them in
    // Chrome DevTools or speedscope) — node refuses --cpu-prof in NODE_OPTIONS.
    const profileDir = ctx.env.BENCH_CPU_PROFILE_DIR?.trim();
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
    const worker = ChildService.start('worker', workerMain, childEnv, ctx.root, nodeArgs);
    cleanups.push({ what: 'stopping the worker', run: () => stopChild(worker) });
    const api = ChildService.start('api', apiMain, childEnv, ctx.root, nodeArgs);
    cleanups.push({ what: 'stopping the API', run: () => stopChild(api) });

    const baseUrl = `http://127.0.0.1:${port}`;
    await Promise.all([waitForApi(baseUrl, api, ctx.signal), waitForWorker(temporal, config, worker, ctx.signal)]);
    const rss = { api: new RssSampler(api.pid).start(), worker: new RssSampler(worker.pid).start() };
    cleanups.push({
      what: 'stopping RSS sampling',
      run: () => {
        rss.api.stop();
        rss.worker.stop();
        return Promise.resolve();
      },
    });
    return { config, env, baseUrl, llm, db, temporal, redis, api, worker, rss, close };
  } catch (error) {
    const problems = await close();
    if (problems.length > 0) ctx.print(`cleanup after a failed start: ${problems.join('; ')}`);
    throw error;
  }
}

async function stopChild(child: ChildService): Promise<void> {
  const exit = await child.stop();
  if (exit.signal === 'SIGKILL') throw new Error(`${child.name} did not stop on SIGTERM and was killed`);
}

/** The API answers 200 on /health/ready: MySQL, Redis and Temporal reachable from it. */
async function waitForApi(baseUrl: string, api: ChildService, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (!api.isRunning) throw new Error(`the API exited during start-up:\n${api.tail()}`);
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(3000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new Error(`the API was not ready within ${READY_TIMEOUT_MS} ms (last: ${last}):\n${api.tail()}`);
}

/** The worker polls the chat task queue for workflow and activity tasks. */
async function waitForWorker(
  temporal: Client,
  config: AppConfig,
  worker: ChildService,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const polled = async (taskQueueType: 1 | 2): Promise<boolean> => {
    const { pollers } = await temporal.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.chatTaskQueue, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
      taskQueueType, // 1 workflow, 2 activity
    });
    return pollers.length > 0;
  };
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (!worker.isRunning) throw new Error(`the worker exited during start-up:\n${worker.tail()}`);
    if ((await polled(1)) && (await polled(2))) return;
    await sleep(200);
  }
  throw new Error(`the worker did not poll its task queue within ${READY_TIMEOUT_MS} ms:\n${worker.tail()}`);
}

async function dropDatabase(url: string): Promise<void> {
  const { serverUrl, database } = splitDatabaseUrl(url);
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`invalid database name "${database}"`);
  const server = new DataSource({ type: 'mysql', url: serverUrl, logging: false });
  await server.initialize();
  try {
    await server.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await server.destroy();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  if (prefix === '') return; // never sweep a whole Redis database
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A port nothing listens on now (for a child process to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
