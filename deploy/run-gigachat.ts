import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * `npm start`: runs the worker and the API side by side, forwarding Ctrl-C/SIGTERM to both,
 * and stops the other when one of them exits.
 */
const root = resolve(__dirname, '../..'); // dist/deploy → the checkout
const processes: Record<string, string> = {
  worker: 'dist/apps/worker/src/main.js',
  api: 'dist/apps/api/src/main.js',
};

const children = new Map<string, ChildProcess>();
let stopping = false;

function stopAll(signal: NodeJS.Signals): void {
  stopping = true;
  for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
}

for (const [name, script] of Object.entries(processes)) {
  const child = spawn(process.execPath, [resolve(root, script)], { cwd: root, stdio: 'inherit', env: process.env });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`[gigachat] ${name} exited (${signal ?? code}); stopping the rest`);
      process.exitCode = code ?? 1;
      stopAll('SIGTERM');
    }
    if (children.size === 0) process.exit();
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll(signal));
