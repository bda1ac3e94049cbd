/**
 * The workflow side of tracing, bundled with the workflows (workflow-bundle.ts lists it as an interceptor module):
 * a traced workflow's run, its update and signal handlers and each child workflow it starts get a span, and the trace
 * context travels on in their Temporal headers. Spans leave the sandbox through the `exporter` sink, which the worker
 * connects to its span processor.
 *
 * Scheduling an activity gets no span of its own (the SDK's `StartActivity:<type>`): the workflow's context goes into
 * the activity's headers, so each attempt's `RunActivity:<type>` span (the worker's activity interceptor) is a child of
 * `RunWorkflow:<type>`. In the sandbox every promise records its stack (Temporal's stack-trace query), and the SDK's
 * span around each schedule added a dozen promises and a sink crossing per activity: about half of what tracing cost
 * a worker per turn, for a span that only repeated the attempt's.
 *
 * A workflow is traced only when its start carried a trace context (the `_tracer-data` header that the API's client
 * interceptor sets when tracing is on there). Without one — tracing off, or every history recorded before tracing —
 * each call goes straight through and the workflow schedules exactly what it did before, so replays are unchanged.
 * The header is in the history, so a replay takes the same branch as the original run.
 */
import type {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Payload } from '@temporalio/common';
import { patched, type ActivityInput, type LocalActivityInput, type WorkflowInterceptors } from '@temporalio/workflow';

/** The header @temporalio/interceptors-opentelemetry carries the W3C trace context in. */
const TRACE_HEADER = '_tracer-data';

const hasTraceContext = (headers: Record<string, Payload>): boolean => headers[TRACE_HEADER] !== undefined;

/**
 * Marks the traced histories whose activities were scheduled without a span. The SDK's span awaited several times
 * before scheduling, so the two ways can order an activity's command differently against a timer started in the same
 * activation; a history recorded the old way (no marker) replays the old way.
 */
const NO_SCHEDULE_SPAN_PATCH = 'tracing-activity-schedule-without-span';

type OtelWorkflow = typeof import('@temporalio/interceptors-opentelemetry/lib/workflow');
type OtelInstrumentation = typeof import('@temporalio/interceptors-opentelemetry/lib/instrumentation');

/**
 * OpenTelemetry's modules, loaded by a traced workflow only. The worker's sandbox loads a workflow's modules afresh
 * for every run, and OpenTelemetry's (the tracer SDK, the semantic conventions) took ~15 % of the workflow thread's
 * CPU in an untraced turn.
 */
function otel(): OtelWorkflow & OtelInstrumentation {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return (loaded ??= {
    ...(require('@temporalio/interceptors-opentelemetry/lib/workflow') as OtelWorkflow),
    ...(require('@temporalio/interceptors-opentelemetry/lib/instrumentation') as OtelInstrumentation),
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
}
/** Per run: the sandbox gives every workflow run its own copy of this module. */
let loaded: (OtelWorkflow & OtelInstrumentation) | undefined;

export function interceptors(): WorkflowInterceptors {
  // Created on first use only: an untraced workflow never builds the sandbox's tracer provider.
  let inbound: OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryOutboundInterceptor | undefined;
  let traced = false;
  const otelIn = (): OpenTelemetryInboundInterceptor => (inbound ??= new (otel().OpenTelemetryInboundInterceptor)());
  const otelOut = (): OpenTelemetryOutboundInterceptor =>
    (outbound ??= new (otel().OpenTelemetryOutboundInterceptor)());
  let withoutScheduleSpan: boolean | undefined;
  const schedule = <I extends ActivityInput | LocalActivityInput, O>(
    input: I,
    next: (input: I) => Promise<O>,
    withSpan: () => Promise<O>,
  ): Promise<O> => {
    if (!traced) return next(input);
    withoutScheduleSpan ??= patched(NO_SCHEDULE_SPAN_PATCH);
    return withoutScheduleSpan ? next({ ...input, headers: otel().headersWithContext(input.headers) }) : withSpan();
  };

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
        // The active context is the workflow's span (or the update handler's); `traced` means the inbound
        // interceptor has registered the sandbox's propagator.
        scheduleActivity: (input, next) => schedule(input, next, () => otelOut().scheduleActivity(input, next)),
        scheduleLocalActivity: (input, next) =>
          schedule(input, next, () => otelOut().scheduleLocalActivity(input, next)),
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
          if (inbound || outbound) void new (otel().OpenTelemetryInternalsInterceptor)().dispose(input, next);
          else next(input);
        },
      },
    ],
  };
}
