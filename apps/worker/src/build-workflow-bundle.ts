import { bundleWorkflowCode } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The checkout's root, whether this file runs from source (tests) or from `dist/` (production). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const ROOT = projectRoot(__dirname);
/** `npm run build` writes the workflow bundle that production workers load (no webpack at worker start). */
export const DEFAULT_WORKFLOW_BUNDLE = resolve(ROOT, 'dist/workflow-bundle.js');
export const WORKFLOWS_SOURCE = resolve(ROOT, 'workflows/index.ts');

async function main(): Promise<void> {
  const target = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_WORKFLOW_BUNDLE;
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_SOURCE, logger: quietLogger });
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, code);
  console.log(`[gigachat] workflow bundle written to ${target} (${Math.round(code.length / 1024)} KiB)`);
}

const quiet = (): void => undefined;
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error, log: quiet };

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
