import { bundleWorkflowCode } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

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
/** The workflow interceptors bundled with the workflows: tracing, active only in traced workflows (see the file). */
export const WORKFLOW_INTERCEPTOR_MODULES = [resolve(ROOT, 'workflows/tracing.interceptors.ts')];
/** What goes into the bundle: the workflows and the contracts they import (nothing else of ours may). */
const BUNDLE_INPUTS = [resolve(ROOT, 'workflows'), resolve(ROOT, 'libs/contracts')];

/** Where the fingerprint of the sources a bundle was built from is kept, beside the bundle. */
export function fingerprintPathOf(bundlePath: string): string {
  return `${bundlePath}.sources`;
}

/**
 * A hash of every workflow source and contract, and of the versions of the SDK that bundles them and of the tracing
 * interceptors bundled with them: two bundles with the same fingerprint run the same workflow code. Undefined when the sources are not here (a production image ships only
 * the bundle).
 */
export function workflowSourcesFingerprint(): string | undefined {
  if (!existsSync(WORKFLOWS_SOURCE)) return undefined;
  const hash = createHash('sha256');
  const files = BUNDLE_INPUTS.flatMap((dir) => listTypeScript(dir)).sort();
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  for (const pkg of ['@temporalio/workflow', '@temporalio/interceptors-opentelemetry']) {
    const { version } = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string };
    hash.update(`${pkg}@${version}\0`);
  }
  return hash.digest('hex');
}

function listTypeScript(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTypeScript(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

const quiet = (): void => undefined;
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error, log: quiet };

/** Bundles the workflows from their sources (webpack; a few seconds). `#libs/*` resolves to the sources here. */
export async function bundleWorkflows(workflowsPath = WORKFLOWS_SOURCE): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger,
    webpackConfigHook: (config) => ({
      ...config,
      resolve: {
        ...config.resolve,
        // package.json maps #libs/* to dist/ for Node; the bundle is made from the TypeScript sources.
        alias: { ...(config.resolve?.alias as Record<string, string> | undefined), '#libs': resolve(ROOT, 'libs') },
      },
    }),
  });
  return code;
}

/** Bundles the workflows and writes the bundle with the fingerprint of the sources it was made from. */
export async function writeWorkflowBundle(target = DEFAULT_WORKFLOW_BUNDLE): Promise<number> {
  const fingerprint = workflowSourcesFingerprint();
  const code = await bundleWorkflows();
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, code);
  if (fingerprint) await writeFile(fingerprintPathOf(target), `${fingerprint}\n`);
  return code.length;
}

export class StaleWorkflowBundleError extends Error {}

export type WorkflowSource =
  { kind: 'file'; workflowBundle: { codePath: string } } | { kind: 'sources'; workflowBundle: { code: string } };

/**
 * The workflow code a worker runs, never older than its sources: the prebuilt bundle when it was made from the
 * sources in this checkout (or when no sources ship, as in an image); else, in production, an error; elsewhere a
 * bundle made now from the sources (`npx jest` or a worker started after an edit runs the edited workflows).
 */
export async function resolveWorkflowSource(options: {
  bundlePath?: string;
  production: boolean;
  onRebundle?: (reason: string) => void;
}): Promise<WorkflowSource> {
  const bundlePath = options.bundlePath ? resolve(options.bundlePath) : DEFAULT_WORKFLOW_BUNDLE;
  const fingerprint = workflowSourcesFingerprint();
  let problem: string;
  if (!existsSync(bundlePath)) {
    problem = `no workflow bundle at ${bundlePath}`;
  } else if (fingerprint === undefined) {
    return { kind: 'file', workflowBundle: { codePath: bundlePath } };
  } else {
    const built = existsSync(fingerprintPathOf(bundlePath))
      ? readFileSync(fingerprintPathOf(bundlePath), 'utf8').trim()
      : '';
    if (built === fingerprint) return { kind: 'file', workflowBundle: { codePath: bundlePath } };
    problem = `the workflow bundle at ${bundlePath} was not built from the workflow sources in this checkout`;
  }
  if (options.production) throw new StaleWorkflowBundleError(`${problem}: run "npm run build" first`);
  options.onRebundle?.(problem);
  return { kind: 'sources', workflowBundle: { code: await bundleWorkflows() } };
}

async function main(): Promise<void> {
  const target = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_WORKFLOW_BUNDLE;
  const size = await writeWorkflowBundle(target);
  console.log(`[gigachat] workflow bundle written to ${target} (${Math.round(size / 1024)} KiB)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
