import type { WorkflowClientInterceptor } from '@temporalio/client';
import { tracingOn } from './tracing';

/**
 * The Temporal client's workflow interceptors for tracing: with tracing on, starting a workflow, an update, a signal
 * or a query is a client span, and its trace context travels to the workflow in a Temporal header (workflows are
 * traced only when it is there; see workflows/tracing.interceptors.ts). Off: none.
 */
export function tracingClientInterceptors(): WorkflowClientInterceptor[] {
  if (!tracingOn()) return [];
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const client =
    require('@temporalio/interceptors-opentelemetry/lib/client') as typeof import('@temporalio/interceptors-opentelemetry/lib/client');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return [new client.OpenTelemetryWorkflowClientInterceptor()];
}
