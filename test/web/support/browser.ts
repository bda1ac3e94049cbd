import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export { CHROMIUM, launchBrowser } from './chromium';

/**
 * A fresh browser context (its own sessionStorage and cookies) whose pages record Content-Security-Policy violations
 * and uncaught errors, so a test can assert there were none.
 */
export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  await context.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return context;
}

export interface PageProblems {
  errors: string[];
}

/** Collects uncaught page errors and console errors (network 4xx the app expects are not page errors). */
export function watch(page: Page): PageProblems {
  const problems: PageProblems = { errors: [] };
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  return problems;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page (WCAG 2.0–2.2 A and AA, plus best practices) and returns its violations as short lines.
 * Injected through the DevTools protocol, like a browser extension, so the page's CSP is unchanged.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> } }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return (
      result.violations as { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]
    ).map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return (violations as AxeViolation[]).map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).join(', ')}`,
  );
}

/** The CSP violations the page saw (none expected: no inline script or style anywhere). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}

const SHOTS = resolve(__dirname, '../../../docs/screenshots');

/** Saves a screenshot under docs/screenshots when run by `npm run screenshots`; otherwise does nothing. */
export async function screenshot(page: Page, name: string, options: { dark?: boolean } = {}): Promise<void> {
  if (process.env.GIGACHAT_SCREENSHOTS !== '1') return;
  mkdirSync(SHOTS, { recursive: true });
  if (options.dark) await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`) });
  if (options.dark) await page.emulateMedia({ colorScheme: 'light' });
}
