import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { openSse } from './support/sse';

/** The sum of the samples of `name` whose labels include every pair of `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const pairs = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => pairs[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/*
 * Prometheus metrics of the API (`GET /metrics`) and of the worker (its own port, with its health checks), scraped
 * around a turn, an upload and a failed login on the real stack.
 */
describe('metrics: the API’s /metrics and the worker’s, moved by a turn, an upload and a failed login', () => {
  let h: Harness;
  let ada: TestUser;
  const TOKEN = 'scrape-secret-for-the-test';
  const worker = (path: string, token: string | null = TOKEN) =>
    fetch(`http://127.0.0.1:${h.worker!.httpPort}${path}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  const scrape = async () => {
    const api = await h.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(api.status).toBe(200);
    const fromWorker = await worker('/metrics');
    expect(fromWorker.status).toBe(200);
    return { api: api.text, worker: await fromWorker.text() };
  };

  beforeAll(async () => {
    h = await startHarness('metrics', { env: { RATE_LIMIT_AUTH_MAX: '1000', METRICS_TOKEN: TOKEN } });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => h?.close());

  it('refuses a scrape without METRICS_TOKEN (even from loopback once it is set), and the worker’s too', async () => {
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
      const req = h.http.get('/metrics');
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect([auth, res.status, res.body.code]).toEqual([auth, 403, 'forbidden']);
    }
    for (const token of [null, 'wrong', `${TOKEN}x`]) expect((await worker('/metrics', token)).status).toBe(403);
    expect((await worker('/metrics')).status).toBe(200);
    expect((await worker('/health/live', null)).status).toBe(200); // health needs no token
  });

  it('serves both in the Prometheus text format; the worker answers its health checks', async () => {
    const api = await h.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(api.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(api.text).toMatch(/^# TYPE gigachat_http_request_duration_seconds histogram$/m);
    expect(api.text).toMatch(/^gigachat_process_cpu_seconds_total\{process="api"\} /m);
    const fromWorker = await worker('/metrics');
    expect(fromWorker.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await fromWorker.text()).toMatch(/^gigachat_process_cpu_seconds_total\{process="worker"\} /m);
    expect([(await worker('/health/live')).status, await (await worker('/health/live')).json()]).toEqual([
      200,
      { status: 'ok' },
    ]);
    const ready = await worker('/health/ready');
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ok', checks: { chat: 'running', ingest: 'running', replay: 'running', database: 'up' } },
    ]);
    expect((await h.http.get(`${API}/metrics`)).status).toBe(404);
  });

  it('counts the turn, the upload and the failed login where they happened, with bounded labels', async () => {
    const before = await scrape();
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({ title: 'm' });
    const sent = await h.http
      .post(`${API}/conversations/${conversation.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'count me' });
    expect(sent.status).toBe(200);
    const upload = await h.http
      .post(`${API}/files`)
      .set('Authorization', ada.auth)
      .attach('file', Buffer.from('# Notes\n\nMetrics count what happened.\n'), 'notes.md');
    expect(upload.status).toBe(202);
    const failed = await h.http.post(`${API}/auth/login`).send({ email: ada.email, password: 'not the password' });
    expect(failed.status).toBe(401);

    const ingestDone = { workflow_type: 'ingestFile' };
    const after = await waitFor(async () => {
      const now = await scrape();
      return sample(now.worker, 'gigachat_audit_events_total', { action: 'file.ingested' }) >
        sample(before.worker, 'gigachat_audit_events_total', { action: 'file.ingested' }) &&
        sample(now.worker, 'gigachat_temporal_workflow_completed_total', ingestDone) >
          sample(before.worker, 'gigachat_temporal_workflow_completed_total', ingestDone)
        ? now
        : undefined;
    }, 30_000);

    const moved = (text: { api: string; worker: string }, where: 'api' | 'worker', name: string, labels = {}) =>
      sample(text[where], name, labels) - sample(before[where], name, labels);
    const sendRoute = { method: 'POST', route: '/api/v1/conversations/:id/messages', status_class: '2xx' };
    expect(moved(after, 'api', 'gigachat_http_request_duration_seconds_count', sendRoute)).toBe(1);
    expect(moved(after, 'api', 'gigachat_http_problem_responses_total', { code: 'invalid_credentials' })).toBe(1);
    expect(
      moved(after, 'api', 'gigachat_audit_events_total', { action: 'auth.login_failed', reason: 'wrong_password' }),
    ).toBe(1);
    expect(moved(after, 'worker', 'gigachat_audit_events_total', { action: 'turn.completed' })).toBe(1);
    expect(moved(after, 'worker', 'gigachat_audit_events_total', { action: 'file.ingested' })).toBe(1);
    expect(
      moved(after, 'worker', 'gigachat_llm_generations_total', { model: 'fake-model', outcome: 'completed' }),
    ).toBe(1);
    expect(moved(after, 'worker', 'gigachat_llm_tokens_total', { direction: 'out' })).toBeGreaterThan(0);
    expect(moved(after, 'worker', 'gigachat_llm_time_to_first_token_seconds_count')).toBe(1);
    // The turn (one step without tools: `answerTurn`) and each step of the ingestion, timed once, and its wait in the
    // task queue.
    for (const activity of ['answerTurn', 'extractAndChunk', 'markReady']) {
      const completed = { activity, outcome: 'completed' };
      expect([activity, moved(after, 'worker', 'gigachat_activity_duration_seconds_count', completed)]).toEqual([
        activity,
        1,
      ]);
      expect([
        activity,
        moved(after, 'worker', 'gigachat_activity_schedule_to_start_seconds_count', { activity }),
      ]).toEqual([activity, 1]);
    }

    // The upload's bytes and chunks, by kind: the rate of the first is the ingestion rate.
    expect(moved(after, 'worker', 'gigachat_ingest_bytes_total', { kind: 'md' })).toBe(
      Buffer.byteLength('# Notes\n\nMetrics count what happened.\n'),
    );
    expect(moved(after, 'worker', 'gigachat_ingest_chunks_total', { kind: 'md' })).toBe(1);

    // The Temporal SDK core's series on the same scrape: each workflow's completion, and each workflow task's wait in
    // its queue (a turn is one task: its steps, the model call included, are local activities within it).
    const chat = h.config.temporal.chatTaskQueue;
    const core = (name: string, labels: Record<string, string>) =>
      moved(after, 'worker', `gigachat_temporal_${name}`, labels);
    expect(core('workflow_completed_total', { workflow_type: 'chatTurn', task_queue: chat })).toBe(1);
    expect(core('workflow_completed_total', { workflow_type: 'ingestFile' })).toBe(1);
    expect(core('workflow_task_schedule_to_start_latency_seconds_count', { task_queue: chat })).toBeGreaterThanOrEqual(
      1,
    );
    expect(core('workflow_task_execution_latency_seconds_count', { workflow_type: 'chatTurn' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(core('local_activity_execution_latency_seconds_count', { activity_type: 'answerTurn' })).toBe(1);
    // A worker's sticky queue (named after the worker) is never a label value; the deployment's queues are.
    const queues = new Set([...after.worker.matchAll(/task_queue="([^"]*)"/g)].map((m) => m[1]));
    const { ingestTaskQueue, replayTaskQueue } = h.config.temporal;
    expect([...queues].filter((queue) => ![chat, ingestTaskQueue, replayTaskQueue, 'sticky'].includes(queue!))).toEqual(
      [],
    );

    // Every SQL statement and Redis command, timed in both processes: the API wrote the user's message and checked
    // the rate limit; the worker read the conversation's messages, wrote the answer and appended the turn's events.
    const db = (where: 'api' | 'worker', operation: string, table: string) =>
      moved(after, where, 'gigachat_db_query_duration_seconds_count', { operation, table });
    const redis = (where: 'api' | 'worker', command: string) =>
      moved(after, where, 'gigachat_redis_command_duration_seconds_count', { command });
    expect(db('api', 'insert', 'messages')).toBeGreaterThanOrEqual(1);
    expect(db('worker', 'select', 'messages')).toBeGreaterThanOrEqual(1);
    expect(db('worker', 'insert', 'messages')).toBeGreaterThanOrEqual(1);
    expect(redis('api', 'eval')).toBeGreaterThanOrEqual(1);
    expect(redis('worker', 'xadd') + redis('worker', 'eval')).toBeGreaterThanOrEqual(1);
    for (const where of ['api', 'worker'] as const) {
      expect(moved(after, where, 'gigachat_db_query_errors_total')).toBe(0);
      expect(moved(after, where, 'gigachat_redis_command_errors_total')).toBe(0);
    }

    // Bounded labels: no id of any kind, and every route a template.
    for (const text of [after.api, after.worker]) expect(text).not.toMatch(UUID);
    const routes = new Set([...after.api.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    expect([...routes].filter((route) => !/^(other|\/[\w/:.-]*)$/.test(route!))).toEqual([]);
    expect(after.api).not.toContain(ada.userId);
    exported = new Set(
      [...`${after.api}\n${after.worker}`.matchAll(/^# TYPE (\w+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [name!, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!],
      ),
    );
  });

  it('times retrieval over the files and counts web searches by outcome', async () => {
    const uploaded = await h.http
      .post(`${API}/files`)
      .set('Authorization', ada.auth)
      .attach('file', Buffer.from('# Lighthouse\n\nThe lighthouse keeper logs the weather.\n'), 'lighthouse.md');
    await waitFor(async () => {
      const file = await h.http.get(`${API}/files/${uploaded.body.id}`).set('Authorization', ada.auth);
      return file.body.status === 'ready' ? true : undefined;
    }, 30_000);
    const before = await scrape();
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    const sent = await h.http
      .post(`${API}/conversations/${conversation.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content: 'What does the lighthouse keeper log?', fileIds: [uploaded.body.id], webSearch: true });
    expect(sent.status).toBe(200);
    const after = await scrape();
    const moved = (name: string, labels = {}) =>
      sample(after.worker, name, labels) - sample(before.worker, name, labels);
    expect(moved('gigachat_retrieval_duration_seconds_count')).toBe(1);
    expect(moved('gigachat_retrieval_passages_count')).toBe(1);
    expect(moved('gigachat_retrieval_passages_sum')).toBeGreaterThanOrEqual(1);
    // No SearxNG in the tests: the search is skipped, and says why in its label.
    expect(moved('gigachat_web_searches_total')).toBe(1);
    expect(after.worker).toMatch(/^gigachat_web_searches_total\{outcome="skipped_[a-z_]+",process="worker"\} \d+/m);
    expect(moved('gigachat_web_search_duration_seconds_count')).toBe(1);
  });

  it('times the event hub: each live stream’s events from their append to Redis to their hand-off', async () => {
    const before = await scrape();
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    const stream = await openSse(
      h.baseUrl,
      `${API}/conversations/${conversation.body.id}/messages`,
      { Authorization: ada.auth },
      { method: 'POST', body: { content: 'stream me' } },
    );
    await stream.done;
    expect(stream.events.at(-1)).toMatchObject({ event: 'message.completed' });
    const after = await scrape();
    const name = 'gigachat_turn_event_delivery_lag_seconds';
    const reads = sample(after.api, `${name}_count`) - sample(before.api, `${name}_count`);
    // At least one read handed events on, and never more reads than events (each read hands on one or more).
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(stream.events.length);
    const lag = (sample(after.api, `${name}_sum`) - sample(before.api, `${name}_sum`)) / reads;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(5); // same host, one clock: a live stream's mean lag is far below seconds
    // The hub reads on a duplicated connection with XREAD BLOCK: timed there, apart from plain XREAD.
    const blocking = { command: 'xread_block' };
    const count = 'gigachat_redis_command_duration_seconds_count';
    expect(sample(after.api, count, blocking) - sample(before.api, count, blocking)).toBeGreaterThanOrEqual(1);
  });

  it('reads the database pool, Redis and the circuit breakers at each scrape', async () => {
    const now = await scrape();
    for (const text of [now.api, now.worker]) {
      // A pool the process has used: connections exist, and each is in use or idle.
      const inUse = sample(text, 'gigachat_db_pool_connections', { state: 'in_use' });
      const idle = sample(text, 'gigachat_db_pool_connections', { state: 'idle' });
      expect(inUse + idle).toBeGreaterThan(0);
      expect(sample(text, 'gigachat_db_pool_connections', { state: 'waiting' })).toBeGreaterThanOrEqual(0);
      const ping = sample(text, 'gigachat_redis_ping_seconds');
      expect(ping).toBeGreaterThan(0);
      expect(ping).toBeLessThan(1);
    }
    // Every breaker of the deployment, closed in a healthy test run: exactly one state set per breaker.
    for (const breaker of ['websearch', ...h.config.llm.providers.map((each) => `llm:${each.name}`)]) {
      expect([
        breaker,
        sample(now.worker, 'gigachat_circuit_breaker_state', { breaker, state: 'closed' }),
        sample(now.worker, 'gigachat_circuit_breaker_state', { breaker, state: 'open' }),
        sample(now.worker, 'gigachat_circuit_breaker_state', { breaker, state: 'half_open' }),
      ]).toEqual([breaker, 1, 0, 0]);
    }
  });

  let exported = new Set<string>();
  it('has alert rules and a scrape configuration in deploy/prometheus that name only series the services export', () => {
    const dir = resolve(__dirname, '../deploy/prometheus');
    const config = load(readFileSync(resolve(dir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    expect(
      config.scrape_configs.map((job) => [job.job_name, job.metrics_path, job.static_configs[0]!.targets]),
    ).toEqual([
      ['gigachat-api', '/metrics', ['api:3000']],
      ['gigachat-worker', '/metrics', ['worker:9464']],
    ]);
    const rules = (
      load(readFileSync(resolve(dir, 'alerts.yml'), 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(exported.size).toBeGreaterThan(10); // the previous test scraped both processes
    for (const rule of rules) {
      const names = [...rule.expr.matchAll(/\bgigachat_\w+/g)].map((m) => m[0]);
      expect([rule.alert, names.length > 0]).toEqual([rule.alert, true]);
      expect([rule.alert, names.filter((name) => !exported.has(name))]).toEqual([rule.alert, []]);
    }
  });

  it('has a Grafana dashboard in deploy/grafana (provisioned with its data source) whose every panel queries series the services export', () => {
    const dashboard = JSON.parse(
      readFileSync(resolve(__dirname, '../deploy/grafana/provisioning/dashboards/gigachat-dashboard.json'), 'utf8'),
    ) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.uid).toBe('gigachat-overview');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    expect(exported.size).toBeGreaterThan(10);
    for (const panel of dashboard.panels) {
      const names = panel.targets.flatMap((target) => [...target.expr.matchAll(/\bgigachat_\w+/g)].map((m) => m[0]));
      expect([panel.title, names.length > 0, names.filter((name) => !exported.has(name))]).toEqual([
        panel.title,
        true,
        [],
      ]);
    }
  });
});
