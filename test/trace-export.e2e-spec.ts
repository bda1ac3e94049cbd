/**
 * Tracing's edges an operator meets (issue 11): a collector that refuses spans is no longer silent — the API logs it
 * at most once a minute (with the spans lost, never a header value), counts the lost spans on /metrics and says when
 * exports work again; and the command-line tools trace: an operator command is one span whose workflow start carries
 * the trace into Temporal, and the replay CLI's requests carry it to the API. Built processes (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { FAKE_EMBEDDING_DIMENSIONS, type FakeEmbeddings, startFakeEmbeddings } from './fakes/fake-embeddings.server';
import { type FakeOtlpCollector, startFakeOtlpCollector } from './fakes/fake-otlp-collector.server';
import { closeServer, listen } from './fakes/http-server';
import { runCli } from './support/cli';
import { type Harness, startHarness, waitFor } from './support/harness';
import { logLines, startApi } from './support/logged-processes';
import { requireBuild, stopProcess } from './support/processes';

const REPLAY_MAIN = resolve(__dirname, '../dist/apps/replay-cli/src/main.js');
/** What the OTLP headers carry: it must never reach a log line. */
const COLLECTOR_TOKEN = 'planted-collector-token-6f1c';
const TRACE_HEADER = '_tracer-data';

/** The value of `gigachat_trace_export_spans_total{outcome}` in a scrape (undefined when absent). */
function exportedSpans(scrape: string, outcome: 'exported' | 'failed'): number | undefined {
  const match = new RegExp(`^gigachat_trace_export_spans_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'm').exec(
    scrape,
  );
  return match ? Number(match[1]) : undefined;
}

describe('trace export failures and the command-line tools', () => {
  let h: Harness;
  let collector: FakeOtlpCollector;
  let embeddings: FakeEmbeddings;
  const otel = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });

  beforeAll(async () => {
    requireBuild();
    collector = await startFakeOtlpCollector();
    // The operator command traced here (reembed) needs an embedding provider to succeed.
    embeddings = await startFakeEmbeddings();
    h = await startHarness('trace-export', {
      env: {
        EMBEDDING_BASE_URL: embeddings.url,
        EMBEDDING_MODEL: 'fake-embed-b',
        EMBEDDING_DIMENSIONS: String(FAKE_EMBEDDING_DIMENSIONS),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await collector?.close();
    await embeddings?.close();
  });

  it('logs a refused export once a minute, counts the lost spans, says when it works again, and hides the headers', async () => {
    collector.refuseWith(500);
    const api = await startApi(h, {
      ...otel(),
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(`Bearer ${COLLECTOR_TOKEN}`)}`,
    });
    const requests = async (count: number) => {
      for (let i = 0; i < count; i++) await fetch(`${api.baseUrl}/api/v1/conversations`);
    };
    const scrape = async () => (await fetch(`${api.baseUrl}/metrics`)).text();
    const lines = (pattern: RegExp) => logLines(api.lines).filter((line) => pattern.test(String(line.msg)));
    try {
      await requests(3);
      const [failure] = await waitFor(async () => {
        const found = lines(/^Trace export failed/);
        return found.length > 0 ? found : undefined;
      }, 20_000);
      expect(failure).toMatchObject({ level: 'warn', component: 'tracing', spansLost: expect.any(Number) });
      expect(failure!.spansLost).toBeGreaterThan(0);
      const failed = await waitFor(async () => exportedSpans(await scrape(), 'failed') || undefined, 10_000);
      expect(failed).toBeGreaterThanOrEqual(failure!.spansLost as number);
      expect(exportedSpans(await scrape(), 'exported')).toBe(0);

      // More lost batches within the minute: counted, not logged again.
      const requestsBefore = collector.requests;
      await requests(3);
      await waitFor(async () => (collector.requests > requestsBefore ? true : undefined), 10_000);
      await waitFor(async () => ((exportedSpans(await scrape(), 'failed') ?? 0) > failed ? true : undefined), 10_000);
      expect(lines(/^Trace export failed/)).toHaveLength(1);

      collector.refuseWith(undefined);
      await requests(3);
      const [recovered] = await waitFor(async () => {
        const found = lines(/works again/);
        return found.length > 0 ? found : undefined;
      }, 20_000);
      expect(recovered).toMatchObject({ level: 'warn', spansFailedTotal: expect.any(Number) });
      expect(exportedSpans(await scrape(), 'exported')).toBeGreaterThan(0);
      expect(collector.spans.some((span) => span.service === 'gigachat-api')).toBe(true);
      expect(api.lines.join('\n')).not.toContain(COLLECTOR_TOKEN);
    } finally {
      collector.refuseWith(undefined);
      await stopProcess(api.child, 'SIGTERM');
    }
  });

  it('an operator command is one span, and the workflow it starts carries its trace', async () => {
    const run = await runCli({ ...h.env, ...otel() }, ['reembed']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const workflowId = /^started (reembed-files:\S+)/m.exec(run.stdout)?.[1];
    expect(workflowId).toBeDefined();
    // The CLI flushes before it exits: the spans are at the collector once it has.
    const spans = collector.spans.filter((span) => span.service === 'gigachat-cli');
    const command = spans.find((span) => span.name === 'gigachat reembed');
    expect(command).toBeDefined();
    expect(command!.parentSpanId).toBeUndefined();
    const inTrace = spans.filter((span) => span.traceId === command!.traceId);
    // The Temporal client's spans (the start, the progress queries) are the command's children.
    expect(inTrace.find((span) => span.name === 'StartWorkflow:reembedFiles')?.parentSpanId).toBe(command!.spanId);
    expect(inTrace.some((span) => span.name.startsWith('QueryWorkflow:'))).toBe(true);

    const history = await h.temporal.workflow.getHandle(workflowId!).fetchHistory();
    const header = history.events?.[0]?.workflowExecutionStartedEventAttributes?.header?.fields?.[TRACE_HEADER];
    expect(Buffer.from(header?.data ?? new Uint8Array()).toString('utf8')).toContain(command!.traceId);
  });

  it("the replay CLI's command is one span, and its requests to the API carry the trace", async () => {
    const traceparents: string[] = [];
    const api = createServer((req, res) => {
      traceparents.push(String(req.headers.traceparent ?? ''));
      res
        .writeHead(404, { 'Content-Type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'not_found' }));
    });
    const url = await listen(api, 0, '127.0.0.1');
    try {
      const child = spawn(process.execPath, [REPLAY_MAIN, '--follow', '0b7c1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b'], {
        env: { PATH: process.env.PATH ?? '', GIGACHAT_API_URL: url, GIGACHAT_API_TOKEN: 'gc_test', ...otel() },
        stdio: 'ignore',
      });
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(code).not.toBe(0);
      const command = collector.spans.find(
        (span) => span.service === 'gigachat-replay-cli' && span.name === 'replay follow',
      );
      expect(command).toBeDefined();
      expect(traceparents.length).toBeGreaterThan(0);
      expect(traceparents.every((header) => header.includes(command!.traceId))).toBe(true);
    } finally {
      await closeServer(api);
    }
  });
});
