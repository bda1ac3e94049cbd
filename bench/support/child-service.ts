import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const TAIL_LINES = 200;

/** Children still running; killed synchronously if the bench process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service of the project run as a child Node process (`node <script>`), with its output kept for diagnosis. */
export class ChildService {
  readonly exited: Promise<ChildExit>;
  private readonly lines: string[] = [];
  private warnings = 0;
  private errors = 0;
  private exit: ChildExit | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.keep(line));
    }
  }

  /**
   * Starts `node [...nodeArgs] <script>` in `cwd` with exactly `env`, so settings of the bench's own shell do not
   * leak in.
   */
  static start(
    name: string,
    script: string,
    env: Record<string, string>,
    cwd: string,
    nodeArgs: string[] = [],
  ): ChildService {
    const child = spawn(process.execPath, [...nodeArgs, script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ChildService(name, child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.exit === undefined;
  }

  /** Log lines at warn level and at error level or above (pino JSON), since start. */
  get logCounts(): { warn: number; error: number } {
    return { warn: this.warnings, error: this.errors };
  }

  /** The last lines the process wrote, for error messages. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    const level = /"level":"(\w+)"/.exec(line)?.[1];
    if (level === 'warn') this.warnings++;
    else if (level === 'error' || level === 'fatal') this.errors++;
  }
}
