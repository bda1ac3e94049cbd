import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Harness } from './harness';

const WORKER_MAIN = resolve(__dirname, '../../dist/apps/worker/src/main.js');

/** Fails early, with the fix, when the build the crash tests run is missing. */
export function requireBuiltWorker(): void {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run "npm run build" first`);
}

/** The production worker entry point (`npm run build` output) as a separate OS process, on the harness's settings. */
export function spawnWorker(h: Harness): ChildProcess {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { PATH: process.env.PATH ?? '', ...h.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

/** Sends `signal` and waits for the process to exit (at once when it already has). */
export async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
