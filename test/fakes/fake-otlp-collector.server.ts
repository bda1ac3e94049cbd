/**
 * A small fake of an OpenTelemetry collector's OTLP/HTTP traces receiver, JSON encoding (what the SDK's exporter sends
 * with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`): `POST /v1/traces` with an `ExportTraceServiceRequest`
 * (`{resourceSpans: [{resource: {attributes}, scopeSpans: [{scope, spans: [...]}]}]}`, gzip or plain) is answered
 * `200 {}` like the real receiver, and every span is recorded, flattened, with its resource's `service.name`. Anything
 * else is 404; a body that is not such JSON is 400.
 *
 * Run it standalone with `PORT=4318 node dist/test/fakes/fake-otlp-collector.server.js`; it prints its base URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { closeServer, listen, runStandalone } from './http-server';

/** An OTLP/JSON attribute value (`AnyValue`); ints arrive as strings or numbers. */
export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

/** One recorded span, with its attributes decoded to plain values. */
export interface RecordedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

export interface FakeOtlpCollector {
  /** Base URL, without a trailing slash: what `OTEL_EXPORTER_OTLP_ENDPOINT` is set to. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly RecordedSpan[];
  /** Export requests received (accepted or not). */
  readonly requests: number;
  /** Answers every export with `status` (e.g. 500: a collector in trouble) until called again without one. */
  refuseWith(status: number | undefined): void;
  close(): Promise<void>;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: { key: string; value: OtlpValue }[];
}

interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

export function decodeValue(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeValue);
  return undefined;
}

function decodeAttributes(list: { key: string; value: OtlpValue }[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, decodeValue(value)]));
}

/** The request's spans, flattened; throws when the body is not an ExportTraceServiceRequest. */
export function spansOf(request: ExportTraceServiceRequest): RecordedSpan[] {
  if (!Array.isArray(request.resourceSpans)) throw new Error('no resourceSpans');
  return request.resourceSpans.flatMap((resourceSpans) => {
    const service = decodeAttributes(resourceSpans.resource?.attributes)['service.name'];
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => {
        if (!/^[0-9a-f]{32}$/.test(span.traceId) || !/^[0-9a-f]{16}$/.test(span.spanId))
          throw new Error(`span ids are not hex: ${span.traceId}/${span.spanId}`);
        return {
          service: typeof service === 'string' ? service : '',
          scope: scopeSpans.scope?.name ?? '',
          traceId: span.traceId,
          spanId: span.spanId,
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          name: span.name,
          kind: span.kind ?? 0,
          attributes: decodeAttributes(span.attributes),
        };
      }),
    );
  });
}

export async function startFakeOtlpCollector(
  options: { port?: number; host?: string } = {},
): Promise<FakeOtlpCollector> {
  const spans: RecordedSpan[] = [];
  let requests = 0;
  let refusal: number | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      requests += 1;
      if (refusal !== undefined) {
        res.writeHead(refusal, { 'Content-Type': 'application/json' }).end('{"message":"refused by the test"}');
        return;
      }
      try {
        if (!String(req.headers['content-type']).startsWith('application/json'))
          throw new Error(`content-type ${req.headers['content-type']}`);
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        spans.push(...spansOf(JSON.parse(body.toString('utf8')) as ExportTraceServiceRequest));
      } catch (error) {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  const url = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url,
    get spans() {
      return spans;
    },
    get requests() {
      return requests;
    },
    refuseWith: (status) => {
      refusal = status;
    },
    close: () => closeServer(server),
  };
}

if (require.main === module) {
  runStandalone('fake OTLP collector', () => startFakeOtlpCollector({ port: Number(process.env.PORT ?? 4318) }));
}
