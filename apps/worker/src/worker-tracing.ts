import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { tracingOn } from '#libs/telemetry/tracing';

/** What a worker adds to its options for tracing: activity interceptors and the workflows' span sink. */
export interface WorkerTracing {
  activity: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
}

/**
 * With tracing on (libs/telemetry/tracing.ts), each activity attempt runs in a span whose parent is the workflow's
 * (the context comes in the activity's Temporal headers), and the spans of the workflows (bundled interceptors,
 * workflows/tracing.interceptors.ts) are exported through this process's span processor. With tracing off, the
 * `exporter` sink drops what a traced workflow (one started by a traced API) sends, and nothing else is added.
 */
export function workerTracing(): WorkerTracing {
  if (!tracingOn()) {
    return { activity: [], sinks: { exporter: { export: { fn: () => undefined, callDuringReplay: false } } } };
  }
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on: they pull in the SDK */
  const worker =
    require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof import('@temporalio/interceptors-opentelemetry/lib/worker');
  const { installedTracing } = require('#libs/telemetry/otel-sdk') as typeof import('#libs/telemetry/otel-sdk');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const installed = installedTracing();
  if (!installed) throw new Error('tracing is on but the OpenTelemetry SDK is not installed');
  return {
    activity: [
      (ctx) => ({
        inbound: new worker.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new worker.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: worker.makeWorkflowExporter(installed.spanProcessor, installed.resource) },
  };
}
