/**
 * OpenTelemetry traces (issue 11, item 2). The API and the worker run as their built processes (tracing has to start
 * before the modules it instruments load), exporting OTLP/JSON to a fake collector. One synchronous chat turn must
 * make one trace that runs from the API's HTTP server span through the Temporal client's workflow start, the
 * workflow and each of its activities to the model call (with its GenAI attributes) and its HTTP request, with MySQL
 * spans on both sides; the API's log lines for the request, the worker's for the turn and the turn's memo carry its
 * trace id. A turn through an API without tracing starts an untraced workflow; the traced history replays; spans still
 * buffered at a graceful stop are flushed; with no endpoint no OpenTelemetry module loads.
 */
import { Worker } from '@temporalio/worker';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { API } from './support/api';
import { type Harness, signUp, startHarness, waitFor } from './support/harness';
import { logLines, spawnLogged, startApi } from './support/logged-processes';
import { requireBuild, stopProcess } from './support/processes';
import { type FakeOtlpCollector, type RecordedSpan, startFakeOtlpCollector } from './fakes/fake-otlp-collector.server';
import { turnWorkflowId } from '#libs/contracts/chat-turn.contract';
import { temporalDataConverter } from '#libs/temporal/data-converter';
import { workerTracing } from '../apps/worker/src/worker-tracing';

const WORKER_MAIN = resolve(__dirname, '../dist/apps/worker/src/main.js');
const TRACING = resolve(__dirname, '../dist/libs/telemetry/tracing.js');
/** The Temporal header the trace context travels in (@temporalio/interceptors-opentelemetry). */
const TRACE_HEADER = '_tracer-data';
/** OTLP span kinds. */
const SERVER = 2;
const CLIENT = 3;
/** The steps of a turn without tools: one local activity, `answerTurn`, with a span of its own for each part. */
const STEPS = ['prepareTurn', 'generate', 'persistAssistantMessage'];

/** The span's ancestors in `spans`, nearest first (stops where a parent was not received). */
function ancestors(span: RecordedSpan, spans: readonly RecordedSpan[]): RecordedSpan[] {
  const chain: RecordedSpan[] = [];
  let current: RecordedSpan | undefined = span;
  while (current?.parentSpanId) {
    const parentId: string = current.parentSpanId;
    current = spans.find((each) => each.spanId === parentId && each.traceId === span.traceId);
    if (current) chain.push(current);
  }
  return chain;
}

/** The headers the workflow was started with. */
async function startHeaders(h: Harness, workflowId: string): Promise<string[]> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`no start event in ${workflowId}'s history`);
  return Object.keys(started.header?.fields ?? {});
}

/** In a fresh Node process with `env`: whether startTracing turned tracing on, and how many OTel modules it loaded. */
function probeStartTracing(env: Record<string, string>): { on: boolean; loaded: number } {
  const script = `const t = require(${JSON.stringify(TRACING)}); t.startTracing('probe');
    const loaded = Object.keys(require.cache).filter((path) => path.includes('@opentelemetry')).length;
    console.log(JSON.stringify({ on: t.tracingOn(), loaded }));`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env } });
  return JSON.parse(out.toString()) as { on: boolean; loaded: number };
}

describe('OpenTelemetry traces, API → Temporal → workflow → activities → model', () => {
  let h: Harness;
  let collector: FakeOtlpCollector;
  const children: ChildProcess[] = [];
  let otel: Record<string, string>;

  beforeAll(async () => {
    requireBuild();
    collector = await startFakeOtlpCollector();
    // No worker in this process: the traced worker process takes every task of the harness's queues.
    h = await startHarness('tracing', { worker: false });
    otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100', // export within a tenth of a second, not the default five
    };
  });
  afterAll(async () => {
    for (const child of children) await stopProcess(child, 'SIGTERM');
    await h?.close();
    await collector?.close();
  });

  let tracedWorkflowId: string | undefined;

  it('one trace links the request, the workflow, every activity, MySQL and the model call; logs and memo carry it', async () => {
    const worker = spawnLogged(WORKER_MAIN, { ...h.env, ...otel, LOG_LEVEL: 'debug' });
    children.push(worker.child);
    const api = await startApi(h, otel);
    children.push(api.child);

    const { auth } = await signUp(h, 'tracer');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const conversationId = conversation.body.id as string;
    const requestId = `trace-e2e-${conversationId}`;
    const question = 'Where does this trace go?';
    const sent = await fetch(`${api.baseUrl}${API}/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json', 'X-Request-Id': requestId },
      body: JSON.stringify({ content: question }),
    });
    const answer = (await sent.json()) as { turnId: string; assistantMessage: { content: string } };
    expect(sent.status).toBe(200);
    expect(answer.assistantMessage.content.length).toBeGreaterThan(0);

    // The request's server span, by its path: its trace is the turn's.
    const path = `${API}/conversations/${conversationId}/messages`;
    const server = await waitFor(async () =>
      collector.spans.find(
        (span) => span.service === 'gigachat-api' && span.kind === SERVER && span.attributes['http.target'] === path,
      ),
    );
    expect(server.name).toBe(`POST ${API}/conversations/:id/messages`);
    expect(server.attributes['http.route']).toBe(`${API}/conversations/:id/messages`);
    const traceId = server.traceId;
    const inTrace = () => collector.spans.filter((span) => span.traceId === traceId);
    const named = (name: string) => inTrace().find((span) => span.name === name);
    // The workflow's spans come through the sink when it completes; the activities' as each ends.
    await waitFor(async () =>
      named('RunWorkflow:chatTurn') && STEPS.every((step) => named(`TurnStep:${step}`)) ? true : undefined,
    );

    // The Temporal client's start (the API then waits for the result) and the workflow run.
    const workflowId = turnWorkflowId(answer.turnId);
    tracedWorkflowId = workflowId;
    expect(named('StartWorkflow:chatTurn')).toMatchObject({
      service: 'gigachat-api',
      attributes: { temporalWorkflowId: workflowId },
    });
    expect(named('RunWorkflow:chatTurn')).toMatchObject({ service: 'gigachat-worker' });
    // Scheduling an activity has no span of its own: each attempt's span hangs from the workflow's.
    expect(named('StartActivity:answerTurn')).toBeUndefined();
    const activity = named('RunActivity:answerTurn');
    expect(activity).toMatchObject({ service: 'gigachat-worker' });
    expect(inTrace().find((span) => span.spanId === activity!.parentSpanId)?.name).toBe('RunWorkflow:chatTurn');
    for (const step of STEPS) {
      expect(named(`TurnStep:${step}`)).toMatchObject({ service: 'gigachat-worker', parentSpanId: activity!.spanId });
    }

    // The model call: a GenAI client span inside the generate activity, its HTTP request (fetch) inside it.
    const llm = inTrace().find((span) => span.name === 'chat fake-model');
    expect(llm).toBeDefined();
    expect(llm!.kind).toBe(CLIENT);
    expect(llm!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(llm!.attributes['gen_ai.system']).toEqual(expect.any(String));
    expect(llm!.attributes['gen_ai.provider.name']).toBe(llm!.attributes['gen_ai.system']);
    expect(llm!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(llm!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(
      inTrace().some((span) => span.parentSpanId === llm!.spanId && span.scope.includes('instrumentation-undici')),
    ).toBe(true);

    // One unbroken chain from the model call up to the request: not merely spans that share an id.
    const chain = ancestors(llm!, collector.spans).map((span) => span.name);
    const expected = ['TurnStep:generate', 'RunActivity:answerTurn', 'RunWorkflow:chatTurn'];
    expect(chain.slice(0, 3)).toEqual(expected);
    expect(chain).toContain('StartWorkflow:chatTurn');
    expect(chain.at(-1)).toBe(server.name);
    expect(ancestors(llm!, collector.spans).at(-1)?.spanId).toBe(server.spanId);

    // MySQL on both sides: the API saving the turn, the worker's activities reading and writing it.
    const mysql = inTrace().filter((span) => span.scope.includes('instrumentation-mysql2'));
    expect(new Set(mysql.map((span) => span.service))).toEqual(new Set(['gigachat-api', 'gigachat-worker']));
    // Statements as sent, placeholders and all; no span for opening or committing a transaction.
    expect(mysql.some((span) => /\bINSERT\b.*\?/s.test(String(span.attributes['db.statement'])))).toBe(true);
    expect(mysql.filter((span) => /^(START|BEGIN|COMMIT)$/.test(span.name))).toEqual([]);
    // Redis: no span per turn event appended; statements name the command and key, never a script.
    const redis = inTrace().filter((span) => span.scope.includes('instrumentation-ioredis'));
    expect(redis.length).toBeGreaterThan(0);
    expect(redis.filter((span) => span.name === 'xadd')).toEqual([]);
    for (const span of redis) expect(String(span.attributes['db.statement'])).not.toMatch(/redis\.call|\n/);
    // The message's text is in no span (neither the question nor the echoed answer).
    const texts = inTrace().flatMap((span) =>
      Object.values(span.attributes).map((value) => String(JSON.stringify(value))),
    );
    expect(texts.filter((text) => text.includes(question))).toEqual([]);

    // The turn's memo names the trace (read through the codec: memo fields are encrypted).
    const described = await h.temporal.workflow.getHandle(workflowId).describe();
    expect(described.memo?.traceId).toBe(traceId);

    // The API's lines for this request, and the worker's for this turn, carry the trace id.
    const apiLines = logLines(api.lines).filter((line) => line.requestId === requestId);
    expect(apiLines.length).toBeGreaterThan(0);
    for (const line of apiLines) expect(line.traceId).toBe(traceId);
    expect(apiLines.some((line) => line.msg === 'request' && line.status === 200)).toBe(true);
    const workerLines = logLines(worker.lines).filter((line) => line.turnId === answer.turnId);
    expect(workerLines.length).toBeGreaterThan(0);
    for (const line of workerLines) expect(line.traceId).toBe(traceId);
    expect(
      logLines(api.lines)
        .filter((line) => line.traceId !== undefined)
        .every((line) => /^[0-9a-f]{32}$/.test(String(line.traceId))),
    ).toBe(true);
  });

  it('a turn through an API without tracing carries no trace context: its workflow runs untraced, as before', async () => {
    // The harness's API runs in this process, where tracing is off; the traced worker process still runs the turn.
    const { auth } = await signUp(h, 'untraced');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const sent = await h.http
      .post(`${API}/conversations/${conversation.body.id as string}/messages`)
      .set('Authorization', auth)
      .send({ content: 'No trace here' });
    expect(sent.status).toBe(200);
    const workflowId = turnWorkflowId(sent.body.turnId as string);
    expect(await startHeaders(h, workflowId)).not.toContain(TRACE_HEADER);
    const described = await h.temporal.workflow.getHandle(workflowId).describe();
    expect(described.memo).toMatchObject({ requestId: expect.any(String) });
    expect(described.memo).not.toHaveProperty('traceId');
    // The traced turn's start did carry it: the difference is the header, not chance.
    expect(tracedWorkflowId).toBeDefined();
    expect(await startHeaders(h, tracedWorkflowId!)).toContain(TRACE_HEADER);
  });

  it("the traced turn's history replays deterministically with the bundled tracing interceptors", async () => {
    expect(tracedWorkflowId).toBeDefined();
    const history = await h.temporal.workflow.getHandle(tracedWorkflowId!).fetchHistory();
    const codePath = process.env.WORKER_WORKFLOW_BUNDLE;
    if (!codePath) throw new Error('WORKER_WORKFLOW_BUNDLE is not set: run the tests through Jest');
    // Rejects with a DeterminismViolationError if the interceptors scheduled anything differently on replay.
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath },
        dataConverter: temporalDataConverter(h.config.temporal),
        // Tracing is off in this process: the workflow's spans go to the no-op sink a worker registers then.
        sinks: workerTracing().sinks,
      },
      history,
      tracedWorkflowId,
    );
  });

  it('off unless an OTLP endpoint is set: then not one OpenTelemetry module is loaded', () => {
    expect(probeStartTracing({})).toEqual({ on: false, loaded: 0 });
    expect(probeStartTracing({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({
      on: false,
      loaded: 0,
    });
    const on = probeStartTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces` });
    expect(on.on).toBe(true);
    expect(on.loaded).toBeGreaterThan(10);
  });

  it('spans still buffered when the processes stop gracefully are exported on the way out', async () => {
    for (const child of children.splice(0)) await stopProcess(child, 'SIGTERM');
    // A ten-minute batch delay: nothing leaves either process on its own while the test runs.
    const buffered = { ...otel, OTEL_BSP_SCHEDULE_DELAY: '600000' };
    const worker = spawnLogged(WORKER_MAIN, { ...h.env, ...buffered, LOG_LEVEL: 'warn' });
    children.push(worker.child);
    const api = await startApi(h, buffered);
    children.push(api.child);
    const { auth } = await signUp(h, 'flushed');
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
    const path = `${API}/conversations/${conversation.body.id as string}/messages`;
    const sent = await fetch(`${api.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ content: 'Flush me' }),
    });
    expect(sent.status).toBe(200);
    const isServer = (span: RecordedSpan) => span.kind === SERVER && span.attributes['http.target'] === path;
    expect(collector.spans.some(isServer)).toBe(false);

    await stopProcess(api.child, 'SIGTERM');
    await stopProcess(worker.child, 'SIGTERM');
    // Both have exited: what they flushed before exiting is all there will ever be.
    const server = collector.spans.find(isServer);
    expect(server).toBeDefined();
    const names = collector.spans.filter((span) => span.traceId === server!.traceId).map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['RunWorkflow:chatTurn', 'TurnStep:generate', 'chat fake-model']));
  });
});
