import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  fingerprintPathOf,
  workflowSourcesFingerprint,
  writeWorkflowBundle,
} from '../../apps/worker/src/workflow-bundle';

const PREFIX = 'workflow-bundle-';
/** test-env.ts's TEST_DATA_DIR; not imported, since Jest's module mapper (#libs/*) does not apply to global setup. */
const TEST_DATA_DIR = resolve(__dirname, '../../.data/test');

/**
 * Bundles the workflows once per run from their sources (reused while the sources are unchanged) and hands the bundle
 * to every test's workers through WORKER_WORKFLOW_BUNDLE: `npx jest` after an edit never runs old workflow code, and
 * thirty test files do not bundle thirty times.
 */
export default async function globalSetup(): Promise<void> {
  const fingerprint = workflowSourcesFingerprint();
  if (!fingerprint) throw new Error('the workflow sources are missing');
  await mkdir(TEST_DATA_DIR, { recursive: true });
  const name = `${PREFIX}${fingerprint.slice(0, 16)}.js`;
  const path = resolve(TEST_DATA_DIR, name);
  if (!existsSync(path) || !existsSync(fingerprintPathOf(path))) await writeWorkflowBundle(path);
  for (const old of readdirSync(TEST_DATA_DIR)) {
    if (old.startsWith(PREFIX) && !old.startsWith(name)) rmSync(resolve(TEST_DATA_DIR, old), { force: true });
  }
  process.env.WORKER_WORKFLOW_BUNDLE = path;
}
