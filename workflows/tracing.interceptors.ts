/**
 * The workflow side of tracing, bundled with the workflows (workflow-bundle.ts lists it as an interceptor module):
 * a traced workflow's run, its update and signal handlers and each activity, local activity and child workflow it
 * starts get a span, and the trace context travels on in their Temporal headers. Spans leave the sandbox through the
 * `exporter` sink, which the worker connects to its span processor.
 *
 * A workflow is traced only when its start carried a trace context (the `_tracer-data` header that the API's client
 * interceptor sets when tracing is on there). Without one — tracing off, or every history recorded before tracing —
 * each call goes straight through and the workflow schedules exactly what it did before, so replays are unchanged.
 * The header is in the history, so a replay takes the same branch as the original run.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Payload } from '@temporalio/common';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** The header @temporalio/interceptors-opentelemetry carries the W3C trace context in. */
const TRACE_HEADER = '_tracer-data';

const hasTraceContext = (headers: Record<string, Payload>): boolean => headers[TRACE_HEADER] !== undefined;

export function interceptors(): WorkflowInterceptors {
  // Created on first use only: an untraced workflow never builds the sandbox's tracer provider.
  let inbound: OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryOutboundInterceptor | undefined;
  let traced = false;
  const otelIn = (): OpenTelemetryInboundInterceptor => (inbound ??= new OpenTelemetryInboundInterceptor());
  const otelOut = (): OpenTelemetryOutboundInterceptor => (outbound ??= new OpenTelemetryOutboundInterceptor());
  const internals = new OpenTelemetryInternalsInterceptor();

  return {
    inbound: [
      {
        execute: (input, next) => {
          if (!hasTraceContext(input.headers)) return next(input);
          traced = true;
          return otelIn().execute(input, next);
        },
        handleUpdate: (input, next) =>
          hasTraceContext(input.headers) ? otelIn().handleUpdate(input, next) : next(input),
        validateUpdate: (input, next) =>
          hasTraceContext(input.headers) ? otelIn().validateUpdate(input, next) : next(input),
        handleSignal: (input, next) =>
          hasTraceContext(input.headers) ? otelIn().handleSignal(input, next) : next(input),
        handleQuery: (input, next) =>
          hasTraceContext(input.headers) ? otelIn().handleQuery(input, next) : next(input),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced ? otelOut().scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (traced ? otelOut().scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) =>
          traced ? otelOut().startChildWorkflowExecution(input, next) : next(input),
        continueAsNew: (input, next) => (traced ? otelOut().continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced ? otelOut().signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (traced ? otelOut().getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          // The SDK's dispose is async but calls `next` before its first await.
          if (inbound || outbound) void internals.dispose(input, next);
          else next(input);
        },
      },
    ],
  };
}
