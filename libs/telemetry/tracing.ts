import { currentTraceFields, setTraceFields } from '../logging/log-context';
import type { TraceExportStats } from './watched-exporter';

/** What a process started with tracing on keeps: its provider's flush, and what the worker hands to Temporal. */
export interface Tracing {
  /** Exports the spans still buffered and stops the exporter; resolves at once when tracing is off. */
  shutdown(): Promise<void>;
  /** Spans exported and lost so far; undefined when tracing is off. */
  exportStats?(): TraceExportStats;
}

const OFF: Tracing = { shutdown: () => Promise.resolve() };
let started: Tracing | undefined;

/**
 * Whether OpenTelemetry traces are wanted: an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not `true`. These are OpenTelemetry's own
 * variables, read by its SDK (service name, protocol, headers, batching, sampling), so they are not part of our
 * configuration schema; this is the one place that looks at them.
 */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** True once `startTracing` installed the SDK in this process. */
export function tracingOn(): boolean {
  return started !== undefined && started !== OFF;
}

/**
 * Installs the OpenTelemetry SDK (OTLP/HTTP exporter, HTTP server and client, fetch, mysql2 and ioredis
 * instrumentations) when an OTLP endpoint is configured, and puts the active span's ids on every log line. Call it
 * first thing, before the modules it instruments are loaded: instrumentation patches them as they are required. Off,
 * it loads nothing and installs nothing. `defaultServiceName` applies unless `OTEL_SERVICE_NAME` is set.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (started) return started;
  if (!tracingWanted(env)) {
    started = OFF;
    return started;
  }
  // Loaded only when on, and synchronously, so that it is in place before the caller requires the application.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./otel-sdk') as typeof import('./otel-sdk');
  const installed = sdk.installTracing(env.OTEL_SERVICE_NAME?.trim() || defaultServiceName, env);
  setTraceFields(sdk.activeTraceFields);
  started = {
    exportStats: () => installed.exportStats(),
    shutdown: async () => {
      setTraceFields(undefined);
      await installed.shutdown();
    },
  };
  return started;
}

/** Spans this process's exporter has sent and lost so far, or undefined when tracing is off. */
export function traceExportStats(): TraceExportStats | undefined {
  return started?.exportStats?.();
}

/** The trace id of the active span (the request's, in the API), when tracing is on and there is one. */
export function currentTraceId(): string | undefined {
  const { traceId } = currentTraceFields();
  return typeof traceId === 'string' ? traceId : undefined;
}

/** Flushes and stops tracing if `startTracing` installed it (on the API's and the worker's way out); else nothing. */
export async function shutdownTracing(): Promise<void> {
  await started?.shutdown();
}

/**
 * Runs `work` inside a span named `name` (its errors recorded on it) when tracing is on; off, just runs it, loading
 * nothing. For the command-line tools: one span per command, so what it starts (HTTP requests, workflows) joins it.
 */
export async function inSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return work();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  return api.trace.getTracer('gigachat').startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}
