import {
  context as contextApi,
  trace,
  INVALID_SPAN_CONTEXT,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
} from '@opentelemetry/api';

/**
 * Spans an instrumentation makes that no one reads, by name: each costs the worker its creation, its attributes, its
 * export and its bytes, many times a turn. What is dropped stays out of the trace only; the call still runs, and a
 * span it would have parented (none, for these) hangs from the caller's span.
 */
export const DROPPED_SPANS = {
  /**
   * Redis: XADD is a turn event appended (one per streamed token delta, so more the longer the answer) or a wake-up
   * nudge; XREAD/XREADGROUP are stream readers blocked until an event comes, whose span would be the wait.
   */
  redis: new Set(['xadd', 'xread', 'xreadgroup']),
  /** MySQL: the statements that open and commit a transaction; its queries keep their spans. */
  mysql: new Set(['START', 'BEGIN', 'COMMIT']),
};

/**
 * A tracer provider for one instrumentation that hands out tracers skipping the spans `drop` names: for those,
 * `startSpan` returns a non-recording span carrying the parent's context (nothing sampled, recorded or exported).
 * Everything else goes to `inner`'s tracer as it was.
 */
export function droppingTracerProvider(inner: TracerProvider, drop: ReadonlySet<string>): TracerProvider {
  return {
    getTracer: (name: string, version?: string, options?: TracerOptions): Tracer =>
      droppingTracer(inner.getTracer(name, version, options), drop),
  };
}

function droppingTracer(inner: Tracer, drop: ReadonlySet<string>): Tracer {
  return {
    startSpan(name: string, options?: SpanOptions, ctx: Context = contextApi.active()): Span {
      if (!drop.has(name)) return inner.startSpan(name, options, ctx);
      return trace.wrapSpanContext(trace.getSpanContext(ctx) ?? INVALID_SPAN_CONTEXT);
    },
    // The instrumentations filtered here only call startSpan; an active span is never one of the dropped names.
    startActiveSpan: inner.startActiveSpan.bind(inner),
  };
}

/** Commands whose arguments are a script (or function) and a key count before the keys. */
const SCRIPTED = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/i;

/**
 * The db.statement of a Redis span: the command and its first key, never the values, which are message text and
 * tokens, nor a script. The instrumentation's default writes every argument of some commands (a whole Lua script on
 * each EVAL) on every call.
 */
export function redisStatement(command: string, args: ReadonlyArray<unknown>): string {
  const scripted = SCRIPTED.test(command);
  if (scripted && !(Number(args[1]) > 0)) return command;
  const key = args[scripted ? 2 : 0];
  if (typeof key === 'string' || typeof key === 'number') return `${command} ${key}`;
  if (Buffer.isBuffer(key)) return `${command} ${key.toString('utf8')}`;
  return command;
}
