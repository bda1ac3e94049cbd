import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const SOURCES = join(ROOT, 'apps/web');
export const WEB_DIST = join(ROOT, 'dist/web');
const FINGERPRINT = join(WEB_DIST, '.sources-fingerprint');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** A hash of the client's sources, its build config and the lock file: what a build of dist/web depends on. */
export function webSourcesFingerprint(): string {
  const hash = createHash('sha256');
  for (const path of [...files(SOURCES), join(ROOT, 'package-lock.json')].sort()) {
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Builds dist/web with Vite when it is missing or was built from other sources (about a second), so the browser
 * tests never run an old client. `npm run build` builds it too; this only makes `npx jest test/web` self-sufficient.
 */
export function ensureWebBuild(): void {
  const fingerprint = webSourcesFingerprint();
  if (existsSync(join(WEB_DIST, 'index.html')) && existsSync(FINGERPRINT)) {
    if (readFileSync(FINGERPRINT, 'utf8') === fingerprint) return;
  }
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      join(SOURCES, 'vite.config.mts'),
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  writeFileSync(FINGERPRINT, fingerprint);
}
