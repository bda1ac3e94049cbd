import type { Metric } from '@temporalio/common';
import type { BufferedMetricUpdate } from '@temporalio/worker';
import { TEMPORAL_METRIC_PREFIX, TemporalCoreMetrics } from '../../apps/worker/src/temporal-core-metrics';
import type { MetricUpdate } from './metric-updates';

/**
 * The worker takes the Temporal SDK core's updates in through its buffer (`TemporalCoreMetrics.record`: series looked
 * up per metric, labels filtered and folded, then prom-client), which costs more than a bare prom-client update. This
 * replays the `gigachat_temporal_*` updates that way; the others are left for `replayCost`. Not included: core's own
 * side and the hand-over from native code (`retrieveUpdates`).
 */
export function coreMetricReplay(updates: readonly MetricUpdate[]): {
  replay: () => void;
  rest: MetricUpdate[];
  core: TemporalCoreMetrics;
} {
  const core = new TemporalCoreMetrics();
  const taskQueues = new Set<string>();
  const metrics = new Map<string, Metric>();
  const buffered: BufferedMetricUpdate[] = [];
  const rest: MetricUpdate[] = [];
  for (const update of updates) {
    if (!update.family.startsWith(TEMPORAL_METRIC_PREFIX) || update.kind === 'gauge-inc-dec') {
      rest.push(update);
      continue;
    }
    const metric = metricOf(metrics, update);
    if (update.labels.task_queue && update.labels.task_queue !== 'sticky') taskQueues.add(update.labels.task_queue);
    for (let i = 0; i < update.times; i++) buffered.push({ metric, value: update.value, attributes: update.labels });
  }
  core.knowTaskQueues([...taskQueues]);
  return { replay: () => core.record(buffered), rest, core };
}

/** Core's metric as it would have named it: our name without the prefix and the suffixes `TemporalCoreMetrics` adds. */
function metricOf(metrics: Map<string, Metric>, update: MetricUpdate): Metric {
  const known = metrics.get(update.family);
  if (known) return known;
  const seconds = update.kind === 'histogram' && update.family.endsWith('_seconds');
  const base = update.family.slice(TEMPORAL_METRIC_PREFIX.length).replace(/_(total|seconds)$/, '');
  const metric: Metric =
    update.kind === 'counter'
      ? { name: `temporal_${base}`, kind: 'counter', valueType: 'int', description: '' }
      : {
          name: `temporal_${base}`,
          kind: 'histogram',
          valueType: 'float',
          description: '',
          ...(seconds ? { unit: 's' } : {}),
        };
  metrics.set(update.family, metric);
  return metric;
}
