import { ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './harness';
import { freePort, stopProcess } from './processes';

/**
 * A redis-server of one test file's own on a free port of 127.0.0.1, in memory only (no RDB, no AOF), so the test can
 * kill it, bring it back empty or flush it without touching the Redis every other test shares.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Starts the server (again, empty) on the same port; resolves once it answers PING. */
  async up(): Promise<void> {
    if (this.child) return;
    const args = ['--port', `${this.port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${this.port}`);
      return (await this.command((redis) => redis.ping()).catch(() => undefined)) === 'PONG' ? true : undefined;
    }, 10_000);
  }

  /** Kills the server without warning: every connection dropped, the port refused, every key lost. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, 'SIGKILL');
  }

  /** Killed and started again: what a restart without persistence leaves, an empty Redis. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    await this.up();
  }

  /** Runs `work` on a short-lived connection of the test's own (no key prefix). */
  async command<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  }

  close(): Promise<void> {
    return this.kill();
  }
}
