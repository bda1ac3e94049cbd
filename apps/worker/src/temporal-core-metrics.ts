import { MetricsBuffer, type BufferedMetricUpdate } from '@temporalio/worker';
import type { Metric, MetricTags } from '@temporalio/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX } from '#libs/metrics/metrics';

/** The Temporal SDK core's own series, renamed under ours: `gigachat_temporal_<core name>`. */
export const TEMPORAL_METRIC_PREFIX = `${METRIC_PREFIX}temporal_`;

/** The attributes core puts on its series that are kept as labels: each takes few values. */
const KEPT_LABELS = [
  'task_queue',
  'workflow_type',
  'activity_type',
  'poller_type',
  'worker_type',
  'operation',
  'status_code',
  'eager',
  'failure_reason',
  'slot_type',
] as const;
type KeptLabel = (typeof KEPT_LABELS)[number];

/** Buckets in seconds for core's latencies (its workflow tasks, polls and requests take from a ms to a minute). */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets for core's histograms that count rather than time (e.g. history events fetched). */
const COUNT_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 1000];

type Series = Counter<KeptLabel> | Gauge<KeptLabel> | Histogram<KeptLabel>;

/**
 * The Temporal SDK core's metrics (its workflow-task and activity queue waits, workflow-task execution time, sticky
 * cache hits, poller and slot counts, gRPC request latency and failures …) on the worker's own `/metrics`, so one
 * scrape has both. Core hands its updates to a buffer in this process (no port of its own, which would collide when
 * several workers share a host); they are drained each second and at every scrape into prom-client series.
 *
 * Labels are bounded: only the attributes in KEPT_LABELS, task queues other than the deployment's (a worker's sticky
 * queue carries its identity) become `sticky`, and any other value that is not a short identifier becomes `other`.
 */
export class TemporalCoreMetrics {
  readonly buffer = new MetricsBuffer({ maxBufferSize: 100_000, useSecondsForDurations: true });
  readonly registry = new Registry();
  private readonly series = new Map<Metric, Series | null>();
  private readonly byName = new Map<string, Series>();
  private readonly taskQueues = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    this.registry.setDefaultLabels({ process: 'worker' });
  }

  /** The deployment's task queues: kept as label values (others are workers' sticky queues). */
  knowTaskQueues(names: readonly string[]): void {
    for (const name of names) this.taskQueues.add(name);
  }

  /** Drains the buffer every `intervalMs` so it never fills between scrapes. */
  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.drain(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Moves every buffered update into its series. */
  drain(): void {
    this.record(this.buffer.retrieveUpdates());
  }

  /** Applies core's updates: counters by their delta, histograms by the value observed, gauges set to it. */
  record(updates: Iterable<BufferedMetricUpdate>): void {
    for (const update of updates) this.apply(update);
  }

  /** The Prometheus text of core's series, drained first. */
  async exposition(): Promise<string> {
    this.drain();
    return this.registry.metrics();
  }

  private apply({ metric, value, attributes }: BufferedMetricUpdate): void {
    const series = this.seriesOf(metric);
    if (!series) return;
    const labels = this.labelsOf(attributes);
    if (series instanceof Counter) series.inc(labels, value);
    else if (series instanceof Histogram) series.observe(labels, value);
    else if (metric.kind === 'up-down-counter') series.inc(labels, value);
    else series.set(labels, value);
  }

  private seriesOf(metric: Metric): Series | undefined {
    const known = this.series.get(metric);
    if (known !== undefined) return known ?? undefined;
    const series = this.create(metric);
    this.series.set(metric, series);
    return series ?? undefined;
  }

  private create(metric: Metric): Series | null {
    if (!/^[a-z][a-z0-9_]{0,80}$/.test(metric.name)) return null;
    const seconds = metric.kind === 'histogram' && (metric.unit === 's' || metric.unit === 'seconds');
    let name = `${TEMPORAL_METRIC_PREFIX}${metric.name.replace(/^temporal_/, '')}`;
    if (metric.kind === 'counter' && !name.endsWith('_total')) name += '_total';
    if (seconds && !name.endsWith('_seconds')) name += '_seconds';
    const existing = this.byName.get(name);
    if (existing) return existing;
    const common = {
      name,
      help: `Temporal SDK core: ${metric.description || metric.name}`,
      labelNames: KEPT_LABELS,
      registers: [this.registry],
    };
    const series =
      metric.kind === 'counter'
        ? new Counter(common)
        : metric.kind === 'histogram'
          ? new Histogram({ ...common, buckets: seconds ? SECONDS_BUCKETS : COUNT_BUCKETS })
          : new Gauge(common);
    this.byName.set(name, series);
    return series;
  }

  private labelsOf(attributes: MetricTags): Partial<Record<KeptLabel, string>> {
    const labels: Partial<Record<KeptLabel, string>> = {};
    for (const key of KEPT_LABELS) {
      const value = attributes[key];
      if (value === undefined) continue;
      const text = String(value);
      if (key === 'task_queue') labels[key] = this.taskQueues.has(text) ? text : 'sticky';
      else labels[key] = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(text) ? text : 'other';
    }
    return labels;
  }
}

let shared: TemporalCoreMetrics | undefined;

/** One per process, like the SDK's Runtime it is installed with. */
export function temporalCoreMetrics(): TemporalCoreMetrics {
  shared ??= new TemporalCoreMetrics();
  return shared;
}
