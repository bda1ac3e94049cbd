import { timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { traceExportStats } from '../telemetry/tracing';
import { timeDatabaseQueries } from './db-query-timing';
import { timeRedisCommands } from './redis-command-timing';

/** Every series GigaChat exports starts with this. */
export const METRIC_PREFIX = 'gigachat_';

/** A label value that is one of a fixed, small set (an action name, a reason code), or `other`. */
export function boundedLabel(value: unknown): string {
  return typeof value === 'string' && /^[a-z][a-z0-9_.]{0,47}$/.test(value) ? value : 'other';
}

/**
 * What both processes export: the Node.js process (CPU, memory, event-loop lag, GC) and every audited event by action
 * and reason — logins by outcome (`auth.login`, `auth.login_failed{reason}`), lockouts (`auth.locked`), turns by
 * outcome (`turn.completed`, `turn.failed`, `turn.cancelled`), files (`file.ready`, `file.failed`), and the rest of
 * the audit log's actions. The audit log is the one place every such event is written, so counting there misses none.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly auditEvents: Counter<'action' | 'reason'>;
  private queryMetrics?: { duration: Histogram<'operation' | 'table'>; errors: Counter<'operation'> };
  private commandMetrics?: { duration: Histogram<'command'>; errors: Counter<'command'> };
  /** What this registry already times (a data source, a Redis connection), so watching twice counts once. */
  private readonly timing = new WeakSet<object>();

  constructor(readonly process: 'api' | 'worker') {
    this.registry.setDefaultLabels({ process });
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    this.auditEvents = new Counter({
      name: `${METRIC_PREFIX}audit_events_total`,
      help: 'Audited events by action and reason (logins, lockouts, turn and file outcomes, …)',
      labelNames: ['action', 'reason'],
      registers: [this.registry],
    });
    new Counter<'outcome'>({
      name: `${METRIC_PREFIX}trace_export_spans_total`,
      help: 'Spans handed to the OTLP exporter, by outcome (exported, failed: lost); none while tracing is off',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const stats = traceExportStats();
        if (!stats) return;
        this.reset();
        this.inc({ outcome: 'exported' }, stats.exported);
        this.inc({ outcome: 'failed' }, stats.failed);
      },
    });
  }

  /** An audit row was written. */
  audited(entry: { action: string; metadata?: Record<string, unknown> | null }): void {
    const reason = entry.metadata?.reason;
    this.auditEvents.inc({
      action: boundedLabel(entry.action),
      reason: reason === undefined ? '' : boundedLabel(reason),
    });
  }

  /**
   * The database pool, read at each scrape: connections in use, idle, and requests waiting for one (mysql2's pool under
   * TypeORM). A pool whose internals are not the ones expected reports nothing rather than wrong numbers.
   */
  watchPool(pool: () => unknown): void {
    new Gauge<'state'>({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'Database pool connections by state: in_use, idle, waiting (requests queued for a connection)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const counts = poolCounts(pool());
        if (!counts) return;
        this.set({ state: 'in_use' }, counts.all - counts.idle);
        this.set({ state: 'idle' }, counts.idle);
        this.set({ state: 'waiting' }, counts.waiting);
      },
    });
  }

  /**
   * Every SQL statement the data source sends, timed from the call to its reply by operation (select, insert, …) and
   * main table (one of the schema's, else `other`); failed statements are also counted by operation. Call it once the
   * data source is initialised; a second call for the same data source changes nothing.
   */
  watchDatabase(dataSource: DataSource): void {
    if (this.timing.has(dataSource)) return;
    const { duration, errors } = (this.queryMetrics ??= {
      duration: new Histogram<'operation' | 'table'>({
        name: `${METRIC_PREFIX}db_query_duration_seconds`,
        help: 'SQL statement duration by operation (select, insert, update, delete, begin, commit, …) and main table',
        labelNames: ['operation', 'table'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [this.registry],
      }),
      errors: new Counter<'operation'>({
        name: `${METRIC_PREFIX}db_query_errors_total`,
        help: 'SQL statements that failed (a server error or a lost connection), by operation',
        labelNames: ['operation'],
        registers: [this.registry],
      }),
    });
    const timed = timeDatabaseQueries(dataSource, (labels, seconds, failed) => {
      duration.observe(labels, seconds);
      if (failed) errors.inc({ operation: labels.operation });
    });
    if (timed) this.timing.add(dataSource);
  }

  /**
   * Every command sent on `redis` — and on connections later made from it with `.duplicate()` — timed until its reply,
   * by command (a fixed set, else `other`; a blocking XREAD is `xread_block`); failures (errors, timeouts, a closed
   * connection) are also counted by command.
   */
  watchRedisCommands(redis: Redis): void {
    if (this.timing.has(redis)) return;
    this.timing.add(redis);
    const { duration, errors } = (this.commandMetrics ??= {
      duration: new Histogram<'command'>({
        name: `${METRIC_PREFIX}redis_command_duration_seconds`,
        help: 'Redis command duration by command until its reply; blocking reads are xread_block, apart from xread',
        labelNames: ['command'],
        buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [this.registry],
      }),
      errors: new Counter<'command'>({
        name: `${METRIC_PREFIX}redis_command_errors_total`,
        help: 'Redis commands that failed (an error reply, a timeout, a closed connection), by command',
        labelNames: ['command'],
        registers: [this.registry],
      }),
    });
    timeRedisCommands(redis, (command, seconds, failed) => {
      duration.observe({ command }, seconds);
      if (failed) errors.inc({ command });
    });
  }

  /** Redis round-trip time, measured with a PING at each scrape (-1 when Redis does not answer within a second). */
  watchRedis(ping: () => Promise<unknown>): void {
    new Gauge({
      name: `${METRIC_PREFIX}redis_ping_seconds`,
      help: 'Redis round-trip time at the last scrape (a PING); -1 when it did not answer within a second',
      registers: [this.registry],
      async collect() {
        const started = performance.now();
        const answered = await Promise.race([
          ping().then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
        ]);
        this.set(answered ? (performance.now() - started) / 1000 : -1);
      },
    });
  }

  /**
   * Circuit breakers' states, read from Redis at each scrape (every instance shares them): 1 for the state each is in.
   * `breakers` are the deployment's configured names (`websearch`, `llm:<provider>`), so the labels stay few.
   */
  watchBreakers(breakers: readonly { name: string; state(): Promise<{ state: string }> }[]): void {
    new Gauge<'breaker' | 'state'>({
      name: `${METRIC_PREFIX}circuit_breaker_state`,
      help: 'Circuit breaker state (1 for the current one of closed, open, half_open), per breaker',
      labelNames: ['breaker', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          breakers.map(async (breaker) => {
            const now = await breaker.state().catch(() => undefined);
            if (!now) return;
            for (const state of ['closed', 'open', 'half_open']) {
              this.set({ breaker: breakerLabel(breaker.name), state }, now.state === state ? 1 : 0);
            }
          }),
        );
      },
    });
  }

  /** The Prometheus text exposition of every series. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The API's own series, beside the shared ones. */
export class ApiMetrics extends Metrics {
  readonly httpDuration = new Histogram<'method' | 'route' | 'status_class'>({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'HTTP request duration by method, route template and status class',
    labelNames: ['method', 'route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly httpInFlight = new Gauge({
    name: `${METRIC_PREFIX}http_requests_in_flight`,
    help: 'HTTP requests being served',
    registers: [this.registry],
  });
  readonly problems = new Counter<'code'>({
    name: `${METRIC_PREFIX}http_problem_responses_total`,
    help: 'problem+json responses by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly streamsOpen = new Gauge<'transport'>({
    name: `${METRIC_PREFIX}turn_streams_open`,
    help: 'Live turn connections open: SSE streams (sse, openai) and WebSocket connections (websocket)',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly eventHubLag = new Histogram({
    name: `${METRIC_PREFIX}turn_event_delivery_lag_seconds`,
    help: "From a turn event's append to Redis to its hand-off to this process's live streams (the event hub's lag)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    super('api');
  }
}

/** The worker's own series, beside the shared ones. */
export class WorkerMetrics extends Metrics {
  readonly generations = new Counter<'provider' | 'model' | 'outcome'>({
    name: `${METRIC_PREFIX}llm_generations_total`,
    help: 'Model calls by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'],
    registers: [this.registry],
  });
  readonly tokens = new Counter<'provider' | 'direction'>({
    name: `${METRIC_PREFIX}llm_tokens_total`,
    help: 'Tokens by provider, in (prompt) and out (completion)',
    labelNames: ['provider', 'direction'],
    registers: [this.registry],
  });
  readonly generationSeconds = new Histogram<'provider'>({
    name: `${METRIC_PREFIX}llm_generation_duration_seconds`,
    help: 'Model call duration by provider',
    labelNames: ['provider'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly firstTokenSeconds = new Histogram<'provider'>({
    name: `${METRIC_PREFIX}llm_time_to_first_token_seconds`,
    help: 'Time from the model call to its first token, by provider',
    labelNames: ['provider'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly fallbacks = new Counter<'from' | 'to' | 'reason'>({
    name: `${METRIC_PREFIX}llm_fallbacks_total`,
    help: 'Model calls moved on from one provider to the next, by both providers and the reason (llm_timeout, circuit_open, …)',
    labelNames: ['from', 'to', 'reason'],
    registers: [this.registry],
  });

  readonly webSearches = new Counter<'outcome'>({
    name: `${METRIC_PREFIX}web_searches_total`,
    help: 'Web searches by outcome: cache_hit, fetched (a cache miss SearxNG answered) or skipped_<reason>',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly webSearchSeconds = new Histogram<'outcome'>({
    name: `${METRIC_PREFIX}web_search_duration_seconds`,
    help: 'Web search latency by outcome',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly retrievalSeconds = new Histogram<'mode'>({
    name: `${METRIC_PREFIX}retrieval_duration_seconds`,
    help: "Retrieval over a user's files by mode (hybrid, lexical, failed)",
    labelNames: ['mode'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly retrievalPassages = new Histogram<'mode'>({
    name: `${METRIC_PREFIX}retrieval_passages`,
    help: 'Passages a retrieval returned, by mode',
    labelNames: ['mode'],
    buckets: [0, 1, 2, 4, 8, 16, 32],
    registers: [this.registry],
  });
  readonly ingestedBytes = new Counter<'kind'>({
    name: `${METRIC_PREFIX}ingest_bytes_total`,
    help: 'Bytes of documents extracted and chunked, by kind (pdf, docx, md, …): its rate is the ingestion rate',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly ingestedChunks = new Counter<'kind'>({
    name: `${METRIC_PREFIX}ingest_chunks_total`,
    help: 'Chunks written for retrieval, by kind of document',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly activitySeconds = new Histogram<'activity' | 'outcome'>({
    name: `${METRIC_PREFIX}activity_duration_seconds`,
    help: 'Activity attempts by type and outcome (completed, failed, cancelled): how long each step of a turn or an ingestion took',
    labelNames: ['activity', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [this.registry],
  });
  readonly activityQueueSeconds = new Histogram<'activity'>({
    name: `${METRIC_PREFIX}activity_schedule_to_start_seconds`,
    help: 'From an activity attempt being scheduled to a worker starting it: time spent waiting in the task queue',
    labelNames: ['activity'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  constructor() {
    super('worker');
  }

  /** A model call fell back from one configured provider to the next. */
  fellBack(fallback: { from: string; to: string; reason: string }): void {
    this.fallbacks.inc({
      from: breakerLabel(fallback.from),
      to: breakerLabel(fallback.to),
      reason: boundedLabel(fallback.reason),
    });
  }

  /** A document was extracted and chunked. */
  chunked(document: { kind: string; bytes: number; chunks: number }): void {
    const kind = boundedLabel(document.kind);
    this.ingestedBytes.inc({ kind }, document.bytes);
    this.ingestedChunks.inc({ kind }, document.chunks);
  }
}

/** Whether a scrape may read the metrics: the bearer token when one is set (constant time), else a loopback client. */
export function mayScrape(
  token: string,
  authorization: string | undefined,
  remoteAddress: string | undefined,
): boolean {
  if (token) {
    const given = Buffer.from(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '');
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  return isLoopback(remoteAddress);
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}

/** A breaker's name (`websearch`, `llm:<provider>`) as a label, or `other`. */
function breakerLabel(name: string): string {
  return /^[a-z][a-z0-9_.:-]{0,63}$/i.test(name) ? name : 'other';
}

/** mysql2's pool counts (its private queues), or undefined when `pool` is not shaped like one. */
function poolCounts(pool: unknown): { all: number; idle: number; waiting: number } | undefined {
  const p = pool as {
    _allConnections?: { length: number };
    _freeConnections?: { length: number };
    _connectionQueue?: { length: number };
  } | null;
  const [all, idle, waiting] = [p?._allConnections?.length, p?._freeConnections?.length, p?._connectionQueue?.length];
  if (typeof all !== 'number' || typeof idle !== 'number' || typeof waiting !== 'number') return undefined;
  return { all, idle, waiting };
}
