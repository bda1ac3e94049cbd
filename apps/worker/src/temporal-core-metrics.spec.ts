import type { BufferedMetricUpdate } from '@temporalio/worker';
import type { Metric } from '@temporalio/common';
import { TemporalCoreMetrics } from './temporal-core-metrics';

const counter: Metric = { name: 'temporal_workflow_completed', kind: 'counter', valueType: 'int', description: 'done' };
const latency: Metric = {
  name: 'temporal_workflow_task_schedule_to_start_latency',
  kind: 'histogram',
  valueType: 'float',
  unit: 's',
};
const slots: Metric = { name: 'temporal_worker_task_slots_used', kind: 'gauge', valueType: 'int' };
const inFlight: Metric = { name: 'temporal_things_in_flight', kind: 'up-down-counter', valueType: 'int' };

const update = (metric: Metric, value: number, attributes: BufferedMetricUpdate['attributes'] = {}) => ({
  metric,
  value,
  attributes,
});

describe('TemporalCoreMetrics', () => {
  it('renames core series under gigachat_temporal_ and applies counters, histograms, gauges and up-down counters', async () => {
    const core = new TemporalCoreMetrics();
    core.knowTaskQueues(['chat']);
    core.record([
      update(counter, 1, { task_queue: 'chat', workflow_type: 'chatTurn' }),
      update(counter, 2, { task_queue: 'chat', workflow_type: 'chatTurn' }),
      update(latency, 0.02, { task_queue: 'chat' }),
      update(latency, 0.3, { task_queue: 'chat' }),
      update(slots, 5, { task_queue: 'chat', worker_type: 'WorkflowWorker' }),
      update(slots, 3, { task_queue: 'chat', worker_type: 'WorkflowWorker' }),
      update(inFlight, 4),
      update(inFlight, -1),
    ]);
    const text = await core.exposition();
    expect(text).toMatch(
      /^gigachat_temporal_workflow_completed_total\{task_queue="chat",workflow_type="chatTurn",process="worker"\} 3$/m,
    );
    expect(text).toMatch(/^# TYPE gigachat_temporal_workflow_task_schedule_to_start_latency_seconds histogram$/m);
    expect(text).toMatch(/^gigachat_temporal_workflow_task_schedule_to_start_latency_seconds_count\{.*\} 2$/m);
    expect(text).toMatch(
      /^gigachat_temporal_workflow_task_schedule_to_start_latency_seconds_bucket\{le="0\.025",.*\} 1$/m,
    );
    expect(text).toMatch(/^gigachat_temporal_worker_task_slots_used\{.*\} 3$/m);
    expect(text).toMatch(/^gigachat_temporal_things_in_flight\{process="worker"\} 3$/m);
    expect(text).not.toMatch(/gigachat_temporal_temporal_/);
  });

  it('keeps labels bounded: only known attributes, sticky queues and odd values folded', async () => {
    const core = new TemporalCoreMetrics();
    core.knowTaskQueues(['chat']);
    core.record([
      update(counter, 1, {
        task_queue: 'worker-1234@host-5f0c2b7e-0d7a-4c7e-9f43-0a5e8d1c2b3a',
        workflow_type: 'chat Turn with spaces',
        namespace: 'default',
        service_name: 'temporal-core-sdk',
        workflow_id: 'turn:5f0c2b7e-0d7a-4c7e-9f43-0a5e8d1c2b3a',
      }),
    ]);
    const text = await core.exposition();
    expect(text).toMatch(
      /^gigachat_temporal_workflow_completed_total\{task_queue="sticky",workflow_type="other",process="worker"\} 1$/m,
    );
    expect(text).not.toMatch(/namespace|service_name|workflow_id|5f0c2b7e/);
  });

  it('drops a series whose core name is not a plain metric name', async () => {
    const core = new TemporalCoreMetrics();
    core.record([update({ name: 'bad name{}', kind: 'counter', valueType: 'int' }, 1)]);
    expect(await core.exposition()).toBe('\n');
  });
});
