import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { waitFor } from './harness';
import { freePort, stopProcess } from './processes';
import { TEST_DATA_DIR, uniqueSuffix } from './test-env';

/** GigaChat's search attributes, as `deploy/services.sh` registers them. */
const SEARCH_ATTRIBUTES = ['UserId', 'ConversationId', 'TurnKind', 'ReplayId'].map((name) => `${name}=Keyword`);

/**
 * A Temporal dev server of one test file's own (the pinned CLI's `server start-dev`, flags as `deploy/services.sh`
 * passes them) on free ports with its own SQLite file, so the test can SIGKILL it and start it again on the same
 * database without touching the dev server everyone else shares.
 */
export class PrivateTemporal {
  private child: ChildProcess | undefined;
  private readonly dbFile = resolve(TEST_DATA_DIR, `temporal-${uniqueSuffix()}.db`);

  private constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly httpPort: number,
    private readonly metricsPort: number,
  ) {}

  static async start(): Promise<PrivateTemporal> {
    const binary = execFileSync('bash', [resolve(__dirname, '../../deploy/tools.sh'), 'path', 'temporal'], {
      encoding: 'utf8',
    }).trim();
    const server = new PrivateTemporal(binary, await freePort(), await freePort(), await freePort());
    await server.up();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the server on its database (again, after a kill); resolves once the `default` namespace answers. */
  async up(): Promise<void> {
    if (this.child) return;
    const args = ['server', 'start-dev', '--db-filename', this.dbFile, '--ip', '127.0.0.1', '--port', `${this.port}`];
    args.push('--http-port', `${this.httpPort}`, '--metrics-port', `${this.metricsPort}`, '--headless');
    args.push('--namespace', 'default', '--log-level', 'error');
    for (const attribute of SEARCH_ATTRIBUTES) args.push('--search-attribute', attribute);
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
    for (const value of [
      'system.enableActivityEagerExecution=true',
      'matching.numTaskqueueReadPartitions=1',
      'matching.numTaskqueueWritePartitions=1',
      'history.transferProcessorMaxPollRPS=1000',
      'history.visibilityProcessorMaxPollRPS=1000',
    ]) {
      args.push('--dynamic-config-value', value);
    }
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`temporal exited with ${child.exitCode}: ${stderr}`);
        return (await this.answers()) ? true : undefined;
      },
      60_000,
      250,
    );
  }

  /** Kills the server without warning, as a crashed host would: whatever it had not written to SQLite is lost. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, 'SIGKILL');
  }

  /** Stops the server and deletes its database. */
  async close(): Promise<void> {
    await this.kill();
    await Promise.all(['', '-wal', '-shm'].map((end) => rm(`${this.dbFile}${end}`, { force: true })));
  }

  private async answers(): Promise<boolean> {
    const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 }).catch(() => undefined);
    if (!connection) return false;
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } catch {
      return false;
    } finally {
      await connection.close();
    }
  }
}
