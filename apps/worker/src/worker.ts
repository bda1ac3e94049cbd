import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { createChatActivities } from '../../../activities/chat.activities';
import { createTokenCounter } from '../../../libs/chat/token-counter';
import type { AppConfig } from '../../../libs/config/app-config';
import { createDataSource } from '../../../libs/db/data-source';
import { createTurnEventSink, TurnEventLog } from '../../../libs/events/turn-event-log';
import { createLlmProvider } from '../../../libs/llm/create-llm-provider';
import type { LlmProvider } from '../../../libs/llm/llm-provider';
import type { Logger } from '../../../libs/logging/logger';
import { DEFAULT_WORKFLOW_BUNDLE, WORKFLOWS_SOURCE } from './build-workflow-bundle';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when `worker.run()` returns (after shutdown) and every connection is closed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/** Connects, builds the activities from real clients and starts polling the chat task queue. */
export async function startWorker(
  config: AppConfig,
  logger: Logger,
  overrides: { llm?: LlmProvider; db?: DataSource } = {},
): Promise<RunningWorker> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    Runtime.install({
      logger: {
        log: (level, message, meta) =>
          logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')]({ ...meta }, message),
        trace: (message, meta) => logger.trace({ ...meta }, message),
        debug: (message, meta) => logger.debug({ ...meta }, message),
        info: (message, meta) => logger.info({ ...meta }, message),
        warn: (message, meta) => logger.warn({ ...meta }, message),
        error: (message, meta) => logger.error({ ...meta }, message),
      },
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    });
  }

  const db = overrides.db ?? createDataSource(config.database.url, Math.min(config.database.poolSize, 20));
  if (!db.isInitialized) await db.initialize();
  const tokens = createTokenCounter(); // loads the BPE ranks now rather than on the first turn
  const llm =
    overrides.llm ??
    createLlmProvider({
      baseUrl: config.llm.baseUrl,
      apiKey: config.llm.apiKey,
      model: config.llm.model,
      timeoutMs: config.llm.timeoutMs,
    });
  // Live turn events (token deltas …) go to Redis Streams. A slow or absent Redis never holds a turn up: commands
  // time out and the sink logs and drops what it could not append.
  const redis = new Redis(config.redis.url, {
    keyPrefix: config.redis.keyPrefix,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis error'));
  await redis.connect().catch((error: unknown) => {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'redis unavailable at start');
  });
  const events = createTurnEventSink(new TurnEventLog(redis), logger);
  const connection = await NativeConnection.connect({ address: config.temporal.address });

  const bundlePath = config.temporal.workflowBundlePath
    ? resolve(config.temporal.workflowBundlePath)
    : DEFAULT_WORKFLOW_BUNDLE;
  const workflowSource = existsSync(bundlePath)
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: WORKFLOWS_SOURCE };
  if (!('workflowBundle' in workflowSource) && config.env === 'production') {
    throw new Error(`Workflow bundle not found at ${bundlePath}: run "npm run build" first`);
  }

  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.chatTaskQueue,
    ...workflowSource,
    activities: createChatActivities({
      db,
      llm,
      tokens,
      logger,
      contextTokens: config.llm.contextTokens,
      maxOutputTokens: config.llm.maxOutputTokens,
      events,
    }),
    maxConcurrentActivityTaskExecutions: config.temporal.maxConcurrentActivities,
    shutdownGraceTime: '10 seconds',
  });
  logger.info(
    {
      taskQueue: config.temporal.chatTaskQueue,
      namespace: config.temporal.namespace,
      llm: `${llm.name}/${llm.defaultModel}`,
      workflows: 'workflowBundle' in workflowSource ? bundlePath : 'workflowsPath (development)',
    },
    'worker started',
  );

  const done = worker.run().finally(async () => {
    await connection.close();
    redis.disconnect();
    if (!overrides.db) await db.destroy();
  });
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
