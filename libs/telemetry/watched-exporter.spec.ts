import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpHeaderValues, redact, WatchedSpanExporter } from './watched-exporter';

/** An exporter whose next results the test decides. */
function scriptedExporter() {
  const outcomes: { code: number; error?: Error }[] = [];
  const inner: SpanExporter = {
    export: (_spans, done) => done(outcomes.shift() ?? { code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  return { inner, outcomes };
}

const spans = (count: number) => Array.from({ length: count }, () => ({}) as ReadableSpan);

function watched(secrets: string[] = []) {
  const { inner, outcomes } = scriptedExporter();
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  let now = 1_000_000;
  const exporter = new WatchedSpanExporter(inner, {
    warn: (fields, message) => lines.push({ fields, message }),
    secrets,
    now: () => now,
  });
  const send = (count: number) => {
    const results: number[] = [];
    exporter.export(spans(count), (result) => results.push(result.code));
    return results;
  };
  return { exporter, outcomes, lines, send, advance: (ms: number) => (now += ms) };
}

describe('WatchedSpanExporter', () => {
  it('counts exported spans and says nothing while exports succeed', () => {
    const { exporter, lines, send } = watched();
    expect(send(3)).toEqual([0]);
    send(2);
    expect(exporter.counts()).toEqual({ exported: 5, failed: 0 });
    expect(lines).toEqual([]);
  });

  it('logs a failure at most once a minute with the spans lost since the last line, then the recovery', () => {
    const { exporter, outcomes, lines, send, advance } = watched();
    outcomes.push({ code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') });
    outcomes.push({ code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') });
    outcomes.push({ code: 1, error: new Error('503') });
    // A failure is reported upward as success: it was counted and logged here, not again by the SDK.
    expect(send(4)).toEqual([0]);
    advance(30_000);
    send(6);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({
      spansLost: 4,
      spansFailedTotal: 4,
      error: expect.stringContaining('ECONNREFUSED'),
    });
    advance(30_000);
    send(5);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.fields).toMatchObject({ spansLost: 11, spansFailedTotal: 15, error: '503' });

    send(2);
    expect(lines).toHaveLength(3);
    expect(lines[2]?.message).toMatch(/works again/);
    expect(exporter.counts()).toEqual({ exported: 2, failed: 15 });
    send(1);
    expect(lines).toHaveLength(3);
  });

  it('counts an exporter that throws as a failed export', () => {
    const inner: SpanExporter = {
      export: () => {
        throw new Error('boom');
      },
      shutdown: () => Promise.resolve(),
    };
    const lines: string[] = [];
    const exporter = new WatchedSpanExporter(inner, { warn: (_fields, message) => lines.push(message), secrets: [] });
    const codes: number[] = [];
    exporter.export(spans(2), (result) => codes.push(result.code));
    expect(codes).toEqual([0]);
    expect(exporter.counts()).toEqual({ exported: 0, failed: 2 });
    expect(lines).toHaveLength(1);
  });

  it('never writes a header value or a URL password into a line', () => {
    const token = 'Bearer s3cr3t-collector-token';
    const { outcomes, lines, send } = watched(
      otlpHeaderValues({ OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(token)}` }),
    );
    outcomes.push({ code: 1, error: new Error(`401 for ${token} at https://user:hunter22@collector:4318/v1/traces`) });
    send(1);
    const written = JSON.stringify(lines);
    expect(written).not.toContain('s3cr3t-collector-token');
    expect(written).not.toContain('hunter22');
    expect(written).toContain('[redacted]');
  });
});

describe('otlpHeaderValues and redact', () => {
  it('reads both header variables, raw and decoded, and leaves other text alone', () => {
    const values = otlpHeaderValues({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def, other = plain1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=tok-123,broken',
    });
    expect(values).toEqual(expect.arrayContaining(['abc%20def', 'abc def', 'plain1', 'tok-123']));
    expect(redact('key abc def and tok-123 at http://a:b@h/x', values)).toBe(
      'key [redacted] and [redacted] at http://[redacted]@h/x',
    );
    expect(redact('nothing secret here', values)).toBe('nothing secret here');
  });
});
