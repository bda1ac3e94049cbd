import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type Harness, waitFor } from './harness';
import { freePort } from './processes';

/** The API and the worker as `npm run build` writes them. */
export const API_MAIN = resolve(__dirname, '../../dist/apps/api/src/main.js');

/** A built entry point as a child process whose stdout (JSON log lines) is kept. */
export function spawnLogged(main: string, env: Record<string, string>) {
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env } });
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  return { child, lines, stderr: () => stderr };
}

export function logLines(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export async function startApi(h: Harness, env: Record<string, string>) {
  const port = await freePort(); // the OS's pick: a random one once hit RabbitMQ's 25672 on this machine
  const api = spawnLogged(API_MAIN, {
    ...h.env,
    LOG_LEVEL: 'info',
    API_HOST: '127.0.0.1',
    API_PORT: `${port}`,
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (api.child.exitCode !== null) throw new Error(`the API exited before answering: ${api.stderr()}`);
    const live = await fetch(`${baseUrl}/health/live`).catch(() => undefined);
    return live?.ok ? true : undefined;
  }, 30_000);
  return { ...api, baseUrl };
}
