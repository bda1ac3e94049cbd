import type { Browser, Page } from 'playwright-core';
import { Harness, signUp, startHarness, type TestUser } from '../support/harness';
import {
  axeViolations,
  cspViolations,
  launchBrowser,
  newContext,
  screenshot,
  watch,
  type PageProblems,
} from './support/browser';

/*
 * Tools in the web client, in a real browser against the real stack: the fake model calls the tools that `<<tool NAME
 * ARGS>>` directives in the message name, then answers `Tools said: …`. `current_time` waits for the user's approval.
 */
describe('web client: tools in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;
  let ada: TestUser;

  const a11y = async (state: string) => {
    expect([state, await axeViolations(page)]).toEqual([state, []]);
  };
  const composer = () => page.getByRole('textbox', { name: 'Message', exact: true });
  const lastAnswer = () => page.locator('article.msg-assistant:not(.live)').last();

  beforeAll(async () => {
    h = await startHarness('webtools', {
      env: { TOOLS_REQUIRE_APPROVAL: 'current_time', TOOL_APPROVAL_TIMEOUT_SECONDS: '120' },
    });
    ada = await signUp(h, 'ada');
    browser = await launchBrowser();
    const context = await newContext(browser, h.baseUrl);
    context.setDefaultTimeout(20000);
    page = await context.newPage();
    problems = watch(page);
    await page.goto('/login');
    await page.getByLabel('Email').fill(ada.email);
    await page.getByLabel('Password').fill(ada.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });
  afterEach(async () => {
    if (process.env.WEB_DEBUG)
      await page.screenshot({
        path: `/tmp/web-${expect.getState().currentTestName?.slice(0, 40).replace(/\W+/g, '-')}.png`,
      });
    expect(await cspViolations(page).catch(() => [])).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  it('picks the calculator, shows its call while the answer is written, and keeps it with the saved answer', async () => {
    await page.getByRole('button', { name: 'Tools' }).click();
    const calculator = page.getByRole('checkbox', { name: 'calculator' });
    await calculator.check();
    await page.getByRole('button', { name: 'Tools (1)' }).waitFor();
    await a11y('tool picker');

    // Every text the live answer's tool calls show, from the first paint on (the call may finish quickly).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __calls: string[] }).__calls = seen;
      new MutationObserver(() => {
        const text = document.querySelector('article.msg.live .tool-calls')?.textContent;
        if (text && text !== seen[seen.length - 1]) seen.push(text);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    // The answer is written word by word after the call: a turn that ended before the page followed it would show
    // only the saved answer (on a fast machine it does, with the model at full speed).
    h.llm!.tokenDelayMs = 60;
    await composer().fill('Work out <<tool calculator {"expression":"6*7"}>>');
    await composer().press('Enter');
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await lastAnswer().getByText('Tools said: 6*7 = 42').waitFor({ timeout: 45000 });
    h.llm!.tokenDelayMs = 0;

    const seen = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
    expect(seen.some((text) => text.includes('calculator') && text.includes('{"expression":"6*7"}'))).toBe(true);

    // The saved answer lists the call, collapsed: name, outcome and what the tool said.
    const used = lastAnswer().locator('details.tool-calls');
    await used.getByText('Used tools (1 call)').click();
    const call = used.getByRole('list', { name: 'Tool calls' }).getByRole('listitem');
    expect(await call.count()).toBe(1);
    expect(await call.textContent()).toMatch(/^calculator\s*done\s+.*42/);
    await a11y('answer with a tool call');
  });

  it('waits for approval of current_time, and Approve lets the turn finish with the call completed', async () => {
    // The conversation keeps its tools (those of its first message): the calculator is still picked.
    const tools = page.getByRole('button', { name: 'Tools (1)' });
    await tools.waitFor();
    if ((await tools.getAttribute('aria-expanded')) !== 'true') await tools.click();
    expect(await page.getByRole('checkbox', { name: 'calculator' }).isChecked()).toBe(true);
    await page.getByRole('checkbox', { name: 'current_time' }).check();
    await page.getByRole('button', { name: 'Tools (2)' }).waitFor();

    await composer().fill('What time is it? <<tool current_time {}>>');
    await composer().press('Enter');
    const live = page.locator('article.msg.live');
    const approve = live.getByRole('button', { name: 'Approve current_time' });
    await approve.waitFor({ timeout: 45000 });
    await live.getByRole('button', { name: 'Deny current_time' }).waitFor();
    expect(await live.getByRole('group', { name: 'Approval of current_time' }).textContent()).toMatch(
      /Waits for your approval until .+\./,
    );
    expect(await live.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await a11y('tool call waiting for approval');
    await screenshot(page, 'chat-tool-approval');

    await approve.click();
    await approve.waitFor({ state: 'detached' });
    // The second answer of the conversation (the first is the calculator's).
    const answer = page.locator('article.msg-assistant:not(.live)').nth(1);
    await answer.getByText(/^Tools said: /).waitFor({ timeout: 45000 });
    expect(await page.getByRole('button', { name: /^(Approve|Deny) / }).count()).toBe(0);
    const used = answer.locator('details.tool-calls');
    await used.getByText('Used tools (1 call)').click();
    expect(await used.getByRole('listitem').textContent()).toMatch(/^current_time\s*done/);
    expect(await page.getByRole('alert').count()).toBe(0);

    // The owner's picks are the conversation's tools, kept by the server: a reload (a new page) shows them.
    await page.reload();
    await page.getByRole('button', { name: 'Tools (2)' }).waitFor();
  });
});
