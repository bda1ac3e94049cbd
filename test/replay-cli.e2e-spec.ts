import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { signUp } from './support/harness';
import { JUDGE_MODEL, type ReplayStack, seedConversations, startReplayStack, waitForReplay } from './support/replays';

const CLI_MAIN = resolve(__dirname, '../dist/apps/replay-cli/src/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/*
 * `npm run replay` is `node dist/apps/replay-cli/src/main.js`: run in a child process against the real stack (API,
 * worker, MySQL, Redis, Temporal) with an admin API token, as a batch job would.
 */
describe('replay CLI (a child process against the real stack)', () => {
  let stack: ReplayStack;
  let auth: string;
  let token: string;
  let conversations: string[];

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run "npm run build" first`);
    stack = await startReplayStack('replaycli');
    ({ auth } = await signUp(stack.h, 'admin'));
    const created = await stack.h.http
      .post('/api/v1/tokens')
      .set('Authorization', auth)
      .send({ name: 'replay job', scopes: ['admin'] });
    expect(created.status).toBe(201);
    token = created.body.token as string;
    conversations = await seedConversations(stack.h, auth, 4, 2);
  });
  afterAll(async () => stack?.close());

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [CLI_MAIN, ...args], {
        env: { PATH: process.env.PATH ?? '', GIGACHAT_API_URL: stack.h.baseUrl, GIGACHAT_API_TOKEN: token, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  it('replays, shows progress, prints the Markdown report and exits 0', async () => {
    const run = await cli([
      '--conversations',
      conversations.join(','),
      '--arm',
      'model=fake-verbose,label=verbose',
      '--arm',
      'model=fake-model',
      '--mode',
      'pinned',
      '--judge',
      `model=${JUDGE_MODEL},seed=3`,
      '--report',
      'md',
    ]);
    expect(run.stderr).toMatch(/^replay [0-9a-f-]{36}: 4 conversations$/m);
    // Not a terminal: plain progress lines, the last one final.
    expect(run.stderr).toMatch(/completed · conversations 4\/4 · failed 0 · answers 16/);
    expect(run.stderr).not.toContain('\x1b[');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# Replay [0-9a-f-]{36}\n/);
    expect(run.stdout).toContain('- Status: **completed**');
    expect(run.stdout).toMatch(/^\| 0 \| verbose \| fake-verbose \| 8 \| 0 \| 0 \| 8 \| 0 \| 0 \|/m);
    expect(run.stdout).toContain('Arm 0 (verbose) vs the original answers: **better**');
  });

  it('starts without waiting, then follows the replay to its end and prints the CSV report', async () => {
    const started = await cli(['--conversations', conversations[0]!, '--arm', 'model=fake-model', '--no-wait']);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const followed = await cli(['--follow', id, '--report', 'csv']);
    expect(followed.code).toBe(0);
    const rows: Record<string, string>[] = parseCsv(followed.stdout, { columns: true });
    expect(rows.map((row) => [row.arm, row.model, row.turns])).toEqual([
      ['0', 'fake-model', '2'],
      ['original', '', '2'],
    ]);
    // Following a replay that already ended answers at once, the same way.
    const again = await cli(['--follow', id]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`replay ${id} completed`);
  });

  it('exits 1 when conversations failed, naming how many', async () => {
    stack.llm.reset();
    stack.llm.failNext(1, 400);
    const run = await cli([
      '--conversations',
      conversations.slice(0, 2).join(','),
      '--arm',
      'model=fake-model',
      '--concurrency',
      '1',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/replay [0-9a-f-]{36} 1 conversations failed/);
  });

  it('exits 1 when the replay is cancelled while it is followed', async () => {
    stack.llm.reset();
    stack.llm.firstTokenDelayMs = 300;
    const started = await cli([
      '--conversations',
      conversations.join(','),
      '--arm',
      'model=fake-model',
      '--concurrency',
      '1',
      '--no-wait',
    ]);
    const id = started.stdout.trim();
    const following = cli(['--follow', id]);
    await new Promise((r) => setTimeout(r, 700));
    expect((await stack.h.http.post(`/api/v1/replays/${id}/cancel`).set('Authorization', auth)).status).toBe(200);
    const run = await following;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`replay ${id} cancelled`);
    await waitForReplay(stack.h, auth, id);
    stack.llm.reset();
  });

  it('exits 2 on a request the API refuses, naming the field, and on a bad command line', async () => {
    const refused = await cli(['--conversations', conversations[0]!, '--arm', 'model=no-such-model']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refused: 400 validation_failed');
    expect(refused.stderr).toContain('arms.0.model is not served');

    const unknown = await cli(['--conversations', '00000000-0000-4000-8000-000000000000', '--arm', 'model=fake-model']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('refused: 404 not_found');
    expect(unknown.stderr).toContain('00000000-0000-4000-8000-000000000000');

    const usage = await cli(['--conversations', conversations[0]!]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give at least one --arm model=NAME');
    expect(usage.stderr).toContain('npm run replay --');

    const noToken = await cli(['--follow', conversations[0]!], { GIGACHAT_API_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('GIGACHAT_API_TOKEN');

    const notAdmin = await stack.h.http
      .post('/api/v1/tokens')
      .set('Authorization', auth)
      .send({ name: 'reader', scopes: ['chat:read'] });
    const forbidden = await cli(['--follow', conversations[0]!], { GIGACHAT_API_TOKEN: notAdmin.body.token as string });
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toContain('refused: 403 forbidden');
  });
});
