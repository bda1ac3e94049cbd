import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written in a piece of work carries: the request, the turn or file, the workflow. */
export type LogContext = Record<string, string | number>;

const storage = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with `fields` added to every log line it writes, its awaits and callbacks included (AsyncLocalStorage):
 * the request id in the API, the workflow, activity and turn or file in the worker. Nested runs add to the outer
 * fields.
 */
export function runWithLogContext<T>(fields: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** Adds fields to the current context (e.g. the user, once the request is authenticated); outside one, nothing. */
export function addToLogContext(fields: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

/** The active trace's `traceId` and `spanId`; set by libs/telemetry/tracing.ts when tracing is on, else none. */
let traceFields: (() => LogContext) | undefined;

/** Installs (or, with undefined, removes) the source of the trace fields every log line carries. */
export function setTraceFields(source: (() => LogContext) | undefined): void {
  traceFields = source;
}

/** The active span's `traceId` and `spanId`; empty when tracing is off or no span is active. */
export function currentTraceFields(): LogContext {
  return traceFields?.() ?? {};
}

/**
 * The current context's fields, and the active span's `traceId` and `spanId` when tracing is on (pino's `mixin` puts
 * them on every line).
 */
export function currentLogContext(): LogContext {
  const fields = storage.getStore() ?? {};
  return traceFields ? { ...fields, ...traceFields() } : fields;
}
