import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { createChatActivities } from '#activities/chat.activities';
import { createTurnMcp } from '#libs/mcp/turn-mcp';
import { createChatTools } from './chat-tools';
import { createIngestActivities, type IngestActivityDeps } from '#activities/ingest.activities';
import { LiveFirstPriority } from '#activities/chat/step-priority';
import { createMaintenanceActivities } from '#activities/maintenance.activities';
import { createReplayActivities } from '#activities/replay.activities';
import { createTokenCounter } from '#libs/chat/token-counter';
import type { AppConfig } from '#libs/config/app-config';
import { temporalConnectionOptions } from '#libs/config/temporal-connection';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import { AuditWriter } from '#libs/audit/audit-writer';
import { createDataSource } from '#libs/db/data-source';
import { createDatabase } from '#libs/db/database';
import { DocumentPool } from '#libs/documents/document-pool';
import { createTurnEventSink, TurnEventLog } from '#libs/events/turn-event-log';
import type { LlmProvider } from '#libs/llm/llm-provider';
import type { Logger } from '#libs/logging/logger';
import { ChunkStore } from '#libs/retrieval/chunk-store';
import { EmbeddingClient } from '#libs/retrieval/embedding-client';
import { RedisIndexVersions } from '#libs/retrieval/index-versions';
import { RedisTurnCancelHints } from '#libs/events/turn-cancel-hints';
import { createObjectStore } from '#libs/storage/create-object-store';
import type { ObjectStore } from '#libs/storage/object-store';
import { resolveWorkflowSource } from './workflow-bundle';
import { chatBreakers, createChatLlm, createChatSources } from './chat-sources';
import { startWorkerHttp } from './worker-http';
import { activityObserver } from './activity-observer';
import { meteredSources } from './metered-sources';
import { meteredLlm } from '#libs/metrics/metered-llm';
import { WorkerMetrics } from '#libs/metrics/metrics';
import { tracedLlm } from '#libs/telemetry/traced-llm';
import { tracingOn } from '#libs/telemetry/tracing';
import { workerTracing } from './worker-tracing';
import { temporalCoreMetrics } from './temporal-core-metrics';

export interface RunningWorker {
  worker: Worker;
  /** Polls the ingest task queue (`ingestFile` and its activities); runs and stops together with `worker`. */
  ingestWorker: Worker;
  /** Polls the replay task queue (`replayConversations`, `replayConversation`), with limits of its own. */
  replayWorker: Worker;
  /** The port of the worker's metrics and health server (`WORKER_METRICS_PORT`), undefined when it has none. */
  httpPort?: number;
  /** Resolves when `worker.run()` returns (after shutdown) and every connection is closed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * The replay queue's share of this worker. A replayed turn runs its steps as local activities inside its workflow
 * task, so these bound how many conversations are replayed at once here, whatever a replay asks for, and leave the
 * chat queue its own slots (its defaults). While live turns run, replayed model calls go one at a time
 * (LiveFirstPriority): the replay gets the worker's spare time.
 */
const REPLAY_WORKFLOW_TASKS = 16;
const REPLAY_LOCAL_ACTIVITIES = 16;
const REPLAY_ACTIVITIES = 4;

/** Connects, builds the activities from real clients and starts polling the chat task queue. */
export async function startWorker(
  config: AppConfig,
  logger: Logger,
  overrides: { llm?: LlmProvider; db?: DataSource; store?: ObjectStore } = {},
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
      telemetryOptions: {
        // A turn's workflow task lasts as long as its model call, so core's warning that a task ran over 5 s would be
        // one line per long answer: that one target logs errors only.
        logging: {
          filter: `${makeTelemetryFilterString({ core: 'WARN' })},temporalio_sdk_core::worker::workflow::managed_run=ERROR`,
        },
        // Core's own series (workflow-task queue wait …) come to this process and out through its /metrics.
        metrics: { buffer: temporalCoreMetrics().buffer, attachServiceName: false },
      },
    });
  }

  const db = overrides.db ?? createDataSource(config.database.url, Math.min(config.database.poolSize, 20));
  if (!db.isInitialized) await db.initialize();
  const database = createDatabase(db);
  const metrics = new WorkerMetrics();
  const coreMetrics = temporalCoreMetrics();
  coreMetrics.knowTaskQueues([
    config.temporal.chatTaskQueue,
    config.temporal.ingestTaskQueue,
    config.temporal.replayTaskQueue,
  ]);
  coreMetrics.start();
  const audit = new AuditWriter(database, (entry) => metrics.audited(entry));
  const tokenCounter = createTokenCounter(); // loads the BPE ranks now rather than on the first turn
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
  metrics.watchPool(() => (db.driver as unknown as { pool?: unknown }).pool);
  metrics.watchRedis(() => redis.ping());
  // Every query and command from here on: the breakers, the event log, web search and the rest share these two.
  metrics.watchDatabase(db);
  metrics.watchRedisCommands(redis);
  metrics.watchBreakers(chatBreakers(config, redis));
  const events = createTurnEventSink(new TurnEventLog(redis), logger);
  // A user's cancel, sent ahead by the API, reaches a running model call here (its workflow task is busy with it).
  const cancelHints = new RedisTurnCancelHints(
    new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: null }),
    config.redis.keyPrefix,
    logger,
  );
  void cancelHints.start();
  const metered = meteredLlm(
    overrides.llm ?? createChatLlm(config, redis, logger, (fallback) => metrics.fellBack(fallback)),
    metrics,
  );
  const llm = tracingOn() ? tracedLlm(metered) : metered;
  const tracing = workerTracing();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));

  // Never older than the sources: a stale bundle fails a production start and is rebuilt in memory elsewhere.
  const { kind: workflowsFrom, workflowBundle } = await resolveWorkflowSource({
    bundlePath: config.temporal.workflowBundlePath,
    production: config.env === 'production',
    onRebundle: (reason) => logger.warn({ reason }, 'bundling the workflows from their sources'),
  });

  // One priority for both queues' steps: a replayed turn's model call waits while live turns need the worker.
  const priority = new LiveFirstPriority({ whenIdle: REPLAY_LOCAL_ACTIVITIES, spacingWhileLiveMs: 250 });
  const sources = meteredSources(createChatSources(config, { db, redis, logger }), metrics);
  const { gateway: mcp, pool: mcpPool } = createTurnMcp(config, { db: database, redis, logger });
  const chatActivities = createChatActivities({
    db: database,
    audit,
    llm,
    tokenCounter,
    logger,
    contextTokens: config.llm.contextTokens,
    maxOutputTokens: config.llm.maxOutputTokens,
    events,
    cancelHints,
    priority,
    ...sources,
    ...createChatTools(config, sources),
    mcp,
    retrievalTopK: config.retrieval.topK,
  });
  // Every payload this process sends to Temporal is sealed with the current key; any configured key opens it.
  const dataConverter = temporalDataConverter(config.temporal);
  const worker = await Worker.create({
    connection,
    dataConverter,
    interceptors: { activity: [activityObserver(metrics), ...tracing.activity] },
    sinks: tracing.sinks,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.chatTaskQueue,
    workflowBundle,
    activities: chatActivities,
    // A cancel reaches a running generation with its next heartbeat: send them often enough to stop within ~2 s.
    maxHeartbeatThrottleInterval: '2 seconds',
    maxConcurrentActivityTaskExecutions: config.temporal.maxConcurrentActivities,
    // A turn's model call runs as a local activity and holds its workflow task meanwhile: as many of each as
    // generations may run at once.
    maxConcurrentLocalActivityExecutions: config.temporal.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.temporal.maxConcurrentActivities,
    shutdownGraceTime: '10 seconds',
  });
  logger.info(
    {
      taskQueue: config.temporal.chatTaskQueue,
      namespace: config.temporal.namespace,
      llm: `${llm.name}/${llm.defaultModel}`,
      workflows: workflowsFrom === 'file' ? workflowBundle.codePath : 'bundled from the sources at start',
    },
    'worker started',
  );

  const store =
    overrides.store ??
    createObjectStore({
      s3: config.files.s3,
      localDir: config.files.localDir,
      encryptionKeys: config.files.encryptionKeys,
    });
  // Extraction and chunking run on threads of their own, so ingesting a large file never stalls chat turns here.
  const documents = new DocumentPool();
  void documents.warm();
  await store.ensureReady();
  const ingest = {
    ...ingestDeps(config, { db: database, audit, dataSource: db, redis, store, documents, logger }),
    onChunked: (document: { kind: string; bytes: number; chunks: number }) => metrics.chunked(document),
  };
  const ingestWorker = await Worker.create({
    connection,
    dataConverter,
    interceptors: { activity: [activityObserver(metrics), ...tracing.activity] },
    sinks: tracing.sinks,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.ingestTaskQueue,
    workflowBundle,
    // The operator's batch workflows (re-embedding, purges) run here too: they need the same store, chunks and
    // embedding client, and re-embedding reuses `embedChunks`.
    activities: {
      ...createIngestActivities(ingest),
      ...createMaintenanceActivities({ ...ingest, embeddingModel: config.embeddings?.model }),
    },
    // Extraction holds a whole document in memory: fewer at once than the chat queue's short activities.
    maxConcurrentActivityTaskExecutions: Math.min(config.temporal.maxConcurrentActivities, 4),
    shutdownGraceTime: '10 seconds',
  });
  logger.info(
    { taskQueue: config.temporal.ingestTaskQueue, store: store.driver, embeddings: config.embeddings?.model ?? 'off' },
    'ingest worker started',
  );

  // A replayed turn runs the chat turn's own steps (context, sources, generation) beside the replay's activities.
  const replayWorker = await Worker.create({
    connection,
    dataConverter,
    interceptors: { activity: [activityObserver(metrics), ...tracing.activity] },
    sinks: tracing.sinks,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.replayTaskQueue,
    workflowBundle,
    activities: { ...chatActivities, ...createReplayActivities({ db: database, audit, llm, logger, priority }) },
    maxConcurrentWorkflowTaskExecutions: REPLAY_WORKFLOW_TASKS,
    maxConcurrentLocalActivityExecutions: REPLAY_LOCAL_ACTIVITIES,
    maxConcurrentActivityTaskExecutions: REPLAY_ACTIVITIES,
    shutdownGraceTime: '10 seconds',
  });
  logger.info({ taskQueue: config.temporal.replayTaskQueue }, 'replay worker started');

  const workers = [worker, ingestWorker, replayWorker];
  const stopAll = (): void => {
    for (const each of workers) if (each.getState() === 'RUNNING') each.shutdown();
  };
  // One worker failing stops the others: the process runs every queue or none.
  const runs = workers.map((each) =>
    each.run().catch((error: unknown) => {
      stopAll();
      throw error;
    }),
  );
  // A second worker on the same host (a scale-out, a restart racing the old process) finds the port taken: it runs
  // without the server rather than not at all.
  const http =
    config.metrics.workerPort >= 0
      ? await startWorkerHttp({
          host: config.metrics.workerHost,
          port: config.metrics.workerPort,
          token: config.metrics.token,
          metrics,
          more: () => coreMetrics.exposition(),
          logger,
          ready: async () => {
            const checks: Record<string, string> = {};
            for (const [name, each] of [
              ['chat', worker],
              ['ingest', ingestWorker],
              ['replay', replayWorker],
            ] as const) {
              checks[name] = each.getState().toLowerCase();
            }
            checks.database = await db
              .query('SELECT 1')
              .then(() => 'up')
              .catch(() => 'down');
            const ready = Object.values(checks).every((state) => state === 'running' || state === 'up');
            return { ready, checks };
          },
        }).catch((error: unknown) => {
          logger.warn(
            { err: error instanceof Error ? error.message : String(error), port: config.metrics.workerPort },
            'worker metrics and health server not started',
          );
          return undefined;
        })
      : undefined;
  const done = Promise.allSettled(runs).then(async (results) => {
    await http?.close();
    await documents.close();
    await mcpPool.close();
    await connection.close();
    redis.disconnect();
    cancelHints.close();
    if (!overrides.db) await db.destroy();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  });
  return {
    worker,
    ingestWorker,
    replayWorker,
    ...(http ? { httpPort: http.port } : {}),
    done,
    async shutdown() {
      stopAll();
      await done;
    },
  };
}

/** The ingest activities' dependencies from the configuration: chunking, the store, embeddings when configured. */
function ingestDeps(
  config: AppConfig,
  clients: Pick<IngestActivityDeps, 'db' | 'audit' | 'store' | 'documents' | 'logger'> & {
    dataSource: DataSource;
    redis: Redis;
  },
): IngestActivityDeps {
  const { dataSource, redis, ...shared } = clients;
  const versions = new RedisIndexVersions(redis);
  const embeddings = config.embeddings;
  return {
    ...shared,
    chunks: new ChunkStore(dataSource, versions),
    versions,
    maxBytes: config.files.maxBytes,
    chunkTokens: config.files.chunkTokens,
    chunkOverlapTokens: config.files.chunkOverlapTokens,
    ...(embeddings
      ? {
          embeddings: {
            client: new EmbeddingClient({
              baseUrl: embeddings.baseUrl,
              apiKey: embeddings.apiKey,
              model: embeddings.model,
              ...(embeddings.dimensions !== undefined ? { dimensions: embeddings.dimensions } : {}),
              timeoutMs: embeddings.timeoutMs,
            }),
            model: embeddings.model,
            batchSize: embeddings.batchSize,
          },
        }
      : {}),
  };
}
