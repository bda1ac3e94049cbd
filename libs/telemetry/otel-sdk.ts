import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResourcesSync, envDetectorSync, processDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { LogContext } from '../logging/log-context';
import { createLogger } from '../logging/logger';
import { DROPPED_SPANS, droppingTracerProvider, redisStatement } from './span-filter';
import { otlpHeaderValues, redact, type TraceExportStats, WatchedSpanExporter } from './watched-exporter';

/*
 * The OpenTelemetry SDK as this project installs it; only loaded (by tracing.ts) when tracing is on. OTel 1.x, the
 * line @temporalio/interceptors-opentelemetry 1.24 is built on. The exporter, its protocol, the batching and the
 * sampler follow OpenTelemetry's environment variables (OTEL_EXPORTER_OTLP_*, OTEL_BSP_*, OTEL_TRACES_SAMPLER, …).
 */

export interface InstalledTracing {
  resource: Resource;
  /** The processor every span of this process goes through; the worker hands it the workflows' spans too. */
  spanProcessor: SpanProcessor;
  /** Spans exported and lost so far (failed exports are logged at most once a minute). */
  exportStats(): TraceExportStats;
  shutdown(): Promise<void>;
}

let installed: InstalledTracing | undefined;

/** The installed SDK's resource and span processor (the worker's workflow span sink needs them). */
export function installedTracing(): InstalledTracing | undefined {
  return installed;
}

/**
 * The OTLP/HTTP protocol the spans are sent in: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf` (the specification's default). gRPC is not installed.
 */
export function otlpProtocol(env: NodeJS.ProcessEnv): 'http/json' | 'http/protobuf' {
  const name =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const wanted = (env[name] ?? '').trim();
  if (wanted === 'http/json') return 'http/json';
  if (wanted !== '' && wanted !== 'http/protobuf') {
    throw new Error(`${name}=${wanted} is not supported here: use http/protobuf or http/json`);
  }
  return 'http/protobuf';
}

export function installTracing(serviceName: string, env: NodeJS.ProcessEnv): InstalledTracing {
  if (installed) return installed;
  // Either exporter reads the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_* itself.
  const otlp = otlpProtocol(env) === 'http/json' ? new OtlpJsonExporter() : new OtlpProtobufExporter();
  // Failed exports and the SDK's own complaints reach the process's log (header values never do), not a silent void.
  const logger = createLogger({ level: env.LOG_LEVEL?.trim() || 'info', name: serviceName }).child({
    component: 'tracing',
  });
  const secrets = otlpHeaderValues(env);
  const exporter = new WatchedSpanExporter(otlp, { warn: (fields, message) => logger.warn(fields, message), secrets });
  routeDiagnostics((message) => logger.warn(redact(message, secrets)));
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName }).merge(
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over the default name.
    detectResourcesSync({ detectors: [processDetectorSync, envDetectorSync] }),
  );
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const mysql = statementsWithoutValues(new MySQL2Instrumentation());
  const redis = new IORedisInstrumentation({ dbStatementSerializer: redisStatement });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Probes and scrapes would be most of the spans and say nothing about a request.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(health\/|metrics\b)/.test(req.url ?? ''),
        // A server span named by its route template (`POST /api/v1/conversations/:id/messages`), which Express has
        // put on the request by the time it is answered, as the HTTP metrics label it; never by its ids.
        applyCustomAttributesOnSpan: (span, request) => {
          const routed = request as { route?: { path?: unknown }; baseUrl?: string; method?: string };
          if (typeof routed.route?.path !== 'string') return;
          const route = `${routed.baseUrl ?? ''}${routed.route.path}`;
          span.setAttribute(ATTR_HTTP_ROUTE, route);
          span.updateName(`${routed.method ?? 'GET'} ${route}`);
        },
      }),
      new UndiciInstrumentation(),
      mysql,
      redis,
    ],
  });
  // Each turn's transaction statements and stream appends stay out of the trace (span-filter.ts).
  mysql.setTracerProvider(droppingTracerProvider(provider, DROPPED_SPANS.mysql));
  redis.setTracerProvider(droppingTracerProvider(provider, DROPPED_SPANS.redis));
  installed = {
    resource,
    spanProcessor,
    exportStats: () => exporter.counts(),
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
  return installed;
}

/**
 * OpenTelemetry's own warnings and errors (a bad variable, a refused export the exporter reports itself) as log lines,
 * each distinct message at most once a minute so that a collector that stays down does not flood the log.
 */
function routeDiagnostics(write: (message: string) => void): void {
  const lastSeen = new Map<string, number>();
  const once = (message: unknown, ...args: unknown[]): void => {
    const text = [message, ...args].map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
    const now = Date.now();
    const last = lastSeen.get(text);
    if (last !== undefined && now - last < 60_000) return;
    if (lastSeen.size >= 100) lastSeen.clear();
    lastSeen.set(text, now);
    write(`OpenTelemetry: ${text}`);
  };
  const quiet = (): void => undefined;
  diag.setLogger({ error: once, warn: once, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
}

/**
 * mysql2 spans with the statement as sent (`INSERT … VALUES (?, ?)`), not with its values formatted in: those are
 * message text, formatting them is most of what such a span costs, and they made most of the bytes exported. This
 * instrumentation version has no option for it: its query patch is handed no formatter (then it writes the SQL
 * alone). If a later version renames the patch, this does nothing and the values come back: tracing.e2e-spec.ts
 * checks that no span holds a message's text.
 */
function statementsWithoutValues(instrumentation: MySQL2Instrumentation): MySQL2Instrumentation {
  const patchable = instrumentation as unknown as { _patchQuery?: (format: unknown, isPrepared: boolean) => unknown };
  const patchQuery = patchable._patchQuery;
  if (typeof patchQuery === 'function') {
    patchable._patchQuery = (_format, isPrepared) => patchQuery.call(instrumentation, undefined, isPrepared);
  }
  return instrumentation;
}

/** The active span's trace and span ids, for a log line; nothing outside a span. */
export function activeTraceFields(): LogContext {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return {};
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
