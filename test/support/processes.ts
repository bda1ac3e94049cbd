import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { type Harness, waitFor } from './harness';

/*
 * The production entry points (`npm run build` output) as separate OS processes on a harness's settings, so a test
 * can kill one without warning (SIGKILL) or stop it as an orchestrator would (SIGTERM).
 */

const WORKER_MAIN = resolve(__dirname, '../../dist/apps/worker/src/main.js');
const API_MAIN = resolve(__dirname, '../../dist/apps/api/src/main.js');

/** Fails early, with the fix, when the build the process tests run is missing. */
export function requireBuild(): void {
  for (const main of [WORKER_MAIN, API_MAIN]) {
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  }
}

/** The worker as its own process; `env` adds to or overrides the harness's settings. */
export function spawnWorker(h: Harness, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { PATH: process.env.PATH ?? '', ...h.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

/** An API process that answers on `baseUrl`. */
export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
}

/**
 * The API as its own process on a free port of 127.0.0.1, sharing the harness's MySQL database, Redis prefix and task
 * queues; resolves once it answers `GET /health/live` (rejects with its stderr when it exits first).
 */
export async function spawnApi(h: Harness, env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [API_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      ...h.env,
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: `${port}`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the API process exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr}`);
    const live = await fetch(`${baseUrl}/health/live`).catch(() => undefined);
    return live?.ok ? true : undefined;
  }, 30_000);
  return { child, baseUrl };
}

/** Sends `signal` and waits for the process to exit (at once when it already has). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A TCP port nothing listens on right now (the OS's pick, released at once for the child to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}
