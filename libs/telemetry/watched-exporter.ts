import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** What an exporter reports for one batch (OpenTelemetry's `ExportResult`: code 0 is success). */
interface ExportResult {
  code: number;
  error?: Error;
}

/** Spans handed to the exporter so far, by outcome. */
export interface TraceExportStats {
  exported: number;
  failed: number;
}

export interface ExportWatch {
  /** Where the warnings go (the process's logger at `warn`). */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Text that must never appear in a line (OTLP header values: they often carry a collector's token). */
  secrets: readonly string[];
  /** At most one failure line per this many milliseconds; 60 s unless set. */
  intervalMs?: number;
  now?: () => number;
}

const REDACTED = '[redacted]';

/** `text` with each secret replaced, and a URL's user:password cut out. */
export function redact(text: string, secrets: readonly string[]): string {
  let clean = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, `$1${REDACTED}@`);
  for (const secret of secrets) if (secret.length >= 4) clean = clean.split(secret).join(REDACTED);
  return clean;
}

/** The values of `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k2=v2`, URL-encoded). */
export function otlpHeaderValues(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    for (const pair of (env[name] ?? '').split(',')) {
      const at = pair.indexOf('=');
      if (at < 0) continue;
      const raw = pair.slice(at + 1).trim();
      values.push(raw);
      try {
        values.push(decodeURIComponent(raw));
      } catch {
        // Not URL-encoded: the raw value is the one to hide.
      }
    }
  }
  return values.filter((value) => value.length > 0);
}

/**
 * An exporter that makes failed exports visible instead of silent: it counts the spans exported and lost, logs one
 * `warn` line at most once a minute while exports fail (with the spans lost since the last line and the error, header
 * values redacted) and one line when they succeed again. Upward it always reports success: the failure has been
 * counted and logged here, so the SDK's own error handler does not log each lost batch again.
 */
export class WatchedSpanExporter implements SpanExporter {
  private readonly stats: TraceExportStats = { exported: 0, failed: 0 };
  private lostSinceLine = 0;
  private lastLineAt: number | undefined;
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly watch: ExportWatch,
  ) {}

  /** Spans exported and failed since the process started. */
  counts(): TraceExportStats {
    return { ...this.stats };
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const settle = (result: ExportResult): void => {
      if (result.code === 0) this.exported(spans.length);
      else this.failed(spans.length, result.error);
      resultCallback({ code: 0 });
    };
    try {
      this.inner.export(spans, settle);
    } catch (error) {
      settle({ code: 1, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private exported(count: number): void {
    this.stats.exported += count;
    if (!this.failing) return;
    this.failing = false;
    this.watch.warn({ spansLost: this.lostSinceLine, spansFailedTotal: this.stats.failed }, 'Trace export works again');
    this.lostSinceLine = 0;
    this.lastLineAt = undefined;
  }

  private failed(count: number, error: Error | undefined): void {
    this.stats.failed += count;
    this.lostSinceLine += count;
    this.failing = true;
    const now = (this.watch.now ?? Date.now)();
    if (this.lastLineAt !== undefined && now - this.lastLineAt < (this.watch.intervalMs ?? 60_000)) return;
    this.watch.warn(
      {
        spansLost: this.lostSinceLine,
        spansFailedTotal: this.stats.failed,
        error: redact(error?.message ?? 'export failed', this.watch.secrets),
      },
      'Trace export failed: spans were dropped (the collector is down or refuses them); next report in a minute at most',
    );
    this.lastLineAt = now;
    this.lostSinceLine = 0;
  }
}
