import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { closeServer, listen } from '../../test/fakes/http-server';

/**
 * The smallest OTLP/HTTP traces receiver that proves spans arrived: `POST /v1/traces` in protobuf (the SDK's default,
 * `application/x-protobuf`) or JSON, gzip or plain, answered 200 like a collector; spans are counted per
 * `service.name` and their trace ids kept, nothing else is decoded. Anything else is 404; a body it cannot read is
 * 400 and counted as rejected (the exporter then drops that batch, so the spans per turn would show it).
 */
export interface OtlpSink {
  /** Base URL: what OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  readonly url: string;
  counts(): SinkCounts;
  /** Forgets what was received so far (after a warm-up). */
  reset(): void;
  close(): Promise<void>;
}

export interface SinkCounts {
  spans: number;
  spansByService: Record<string, number>;
  /** Spans per `service scope: span name` (the instrumentation scope says which instrumentation made it). */
  spansByName: Record<string, number>;
  traces: number;
  requests: number;
  rejected: number;
  bytes: number;
  /** Time spent reading the bodies (decompressing, walking the spans), in ms: this process's share of the cores. */
  decodeMs: number;
}

export interface ExportedSpans {
  /** Spans per service.name (`''` when the resource has none). */
  byService: Map<string, number>;
  /** Spans per `service scope: span name`. */
  byName: Map<string, number>;
  traceIds: string[];
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let byService = new Map<string, number>();
  let byName = new Map<string, number>();
  let traces = new Set<string>();
  let requests = 0;
  let rejected = 0;
  let bytes = 0;
  let decodeMs = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      requests++;
      const type = String(req.headers['content-type'] ?? '');
      const started = performance.now();
      try {
        const raw = Buffer.concat(chunks);
        bytes += raw.length;
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const spans = type.startsWith('application/json') ? jsonSpans(body) : protobufSpans(body);
        for (const [service, n] of spans.byService) byService.set(service, (byService.get(service) ?? 0) + n);
        for (const [name, n] of spans.byName) byName.set(name, (byName.get(name) ?? 0) + n);
        for (const id of spans.traceIds) traces.add(id);
      } catch (error) {
        rejected++;
        decodeMs += performance.now() - started;
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(error));
        return;
      }
      decodeMs += performance.now() - started;
      // An empty ExportTraceServiceResponse: zero bytes in protobuf, `{}` in JSON.
      if (type.startsWith('application/json')) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  const url = await listen(server, 0, '127.0.0.1');
  return {
    url,
    counts: () => {
      const spansByService = Object.fromEntries(byService);
      const spans = [...byService.values()].reduce((sum, n) => sum + n, 0);
      const spansByName = Object.fromEntries(byName);
      return {
        spans,
        spansByService,
        spansByName,
        traces: traces.size,
        requests,
        rejected,
        bytes,
        decodeMs: Math.round(decodeMs),
      };
    },
    reset: () => {
      byService = new Map();
      byName = new Map();
      traces = new Set();
      requests = rejected = bytes = decodeMs = 0;
    },
    close: () => closeServer(server),
  };
}

/**
 * Spans of a protobuf ExportTraceServiceRequest, read from the wire format without a schema: request field 1 is a
 * ResourceSpans; in it field 1 the Resource (field 1 its KeyValue attributes: key 1, AnyValue 2 whose string is
 * field 1) and field 2 each ScopeSpans, whose field 1 is its InstrumentationScope (field 1 the name) and field 2
 * each Span (field 1 its 16-byte trace id, field 5 its name).
 */
export function protobufSpans(body: Uint8Array): ExportedSpans {
  const byService = new Map<string, number>();
  const byName = new Map<string, number>();
  const traceIds: string[] = [];
  for (const resourceSpans of fieldsOf(body, 1)) {
    const service = serviceName(resourceSpans);
    for (const scopeSpans of fieldsOf(resourceSpans, 2)) {
      const [scope] = fieldsOf(scopeSpans, 1);
      const [scopeName] = scope === undefined ? [] : fieldsOf(scope, 1);
      const prefix = `${service} ${utf8(scopeName)}: `;
      for (const span of fieldsOf(scopeSpans, 2)) {
        const [traceId] = fieldsOf(span, 1);
        if (traceId?.length !== 16) throw new Error('a span without a 16-byte trace id');
        traceIds.push(Buffer.from(traceId).toString('hex'));
        byService.set(service, (byService.get(service) ?? 0) + 1);
        const name = prefix + utf8(fieldsOf(span, 5)[0]);
        byName.set(name, (byName.get(name) ?? 0) + 1);
      }
    }
  }
  return { byService, byName, traceIds };
}

const utf8 = (bytes: Uint8Array | undefined): string =>
  bytes === undefined ? '' : Buffer.from(bytes).toString('utf8');

function serviceName(resourceSpans: Uint8Array): string {
  for (const resource of fieldsOf(resourceSpans, 1)) {
    for (const attribute of fieldsOf(resource, 1)) {
      const [key] = fieldsOf(attribute, 1);
      if (key === undefined || Buffer.from(key).toString('utf8') !== 'service.name') continue;
      const [value] = fieldsOf(attribute, 2);
      const [text] = value === undefined ? [] : fieldsOf(value, 1);
      return text === undefined ? '' : Buffer.from(text).toString('utf8');
    }
  }
  return '';
}

/** The length-delimited values of field `wanted` in one protobuf message; other fields are skipped. */
export function fieldsOf(message: Uint8Array, wanted: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= message.length) throw new Error('truncated varint');
      const byte = message[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('varint too long');
  };
  while (at < message.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      if (at + length > message.length) throw new Error('truncated field');
      if (field === wanted) found.push(message.subarray(at, at + length));
      at += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  if (at !== message.length) throw new Error('truncated message');
  return found;
}

interface JsonRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value?: { stringValue?: string } }[] };
    scopeSpans?: { scope?: { name?: string }; spans?: { traceId?: string; name?: string }[] }[];
  }[];
}

function jsonSpans(body: Buffer): ExportedSpans {
  const request = JSON.parse(body.toString('utf8')) as JsonRequest;
  if (!Array.isArray(request.resourceSpans)) throw new Error('no resourceSpans');
  const byService = new Map<string, number>();
  const byName = new Map<string, number>();
  const traceIds: string[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const attribute = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name');
    const service = attribute?.value?.stringValue ?? '';
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const prefix = `${service} ${scopeSpans.scope?.name ?? ''}: `;
      for (const span of scopeSpans.spans ?? []) {
        if (typeof span.traceId !== 'string') throw new Error('a span without a trace id');
        traceIds.push(span.traceId);
        byService.set(service, (byService.get(service) ?? 0) + 1);
        const name = prefix + (span.name ?? '');
        byName.set(name, (byName.get(name) ?? 0) + 1);
      }
    }
  }
  return { byService, byName, traceIds };
}
