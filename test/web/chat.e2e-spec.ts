import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Harness, startHarness } from '../support/harness';
import { longConversationImport } from '../support/long-conversation';
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
 * The chat in a real browser (Debian's Chromium, headless) against the real stack: the API serving dist/web, a worker,
 * Temporal, MySQL, Redis, and the fake LLM (slowed where a test needs time to reload or stop mid-answer).
 * axe-core runs on every page and state the flow passes through; it must report nothing.
 */

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

describe('web client: chat in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: PageProblems;
  const email = `web.${Date.now().toString(36)}@example.com`;
  const password = 'correct horse web battery staple';

  const a11y = async (state: string) => {
    expect([state, await axeViolations(page)]).toEqual([state, []]);
  };
  const liveText = () =>
    page
      .locator('article.msg.live .markdown')
      .textContent({ timeout: 1000 })
      .catch(() => '');
  const composer = () => page.getByRole('textbox', { name: 'Message', exact: true });
  const lastAnswer = () => page.locator('article.msg-assistant:not(.live)').last();

  beforeAll(async () => {
    h = await startHarness('webchat');
    browser = await launchBrowser();
    context = await newContext(browser, h.baseUrl);
    context.setDefaultTimeout(15000);
    page = await context.newPage();
    problems = watch(page);
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

  it('registers, signs out and signs in again', async () => {
    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await a11y('sign-in page');
    await screenshot(page, 'sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await a11y('register page');
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/password/i);
    await a11y('register page with an error');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
    await a11y('empty chat');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('The email or password is not right.');
    await a11y('sign-in error');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
    // Tokens: the access token in memory only, the refresh token in sessionStorage, nothing in localStorage.
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: Object.keys(sessionStorage) }));
    expect(storage).toEqual({ local: 0, session: ['gigachat.refresh'] });
  });

  it('streams an answer token by token, and a reload mid-stream resumes it without loss or duplication', async () => {
    const answer = words(90, 'w');
    h.llm!.reply = () => answer;
    h.llm!.tokenDelayMs = 35;
    await composer().fill('Tell me ninety words');
    await composer().press('Enter');
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await page.locator('article.msg.live .steps').waitFor();
    await page.waitForFunction(
      () => (document.querySelector('article.msg.live .markdown')?.textContent ?? '').length > 40,
    );
    await a11y('streaming');
    await screenshot(page, 'chat-streaming');
    const before = (await liveText())!;
    expect(answer.startsWith(before.trim())).toBe(true);

    // Every text the live answer shows after the reload is recorded, from the first paint on.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __live: string[] }).__live = seen;
      new MutationObserver(() => {
        const text = document.querySelector('article.msg.live .markdown')?.textContent;
        if (text && text !== seen[seen.length - 1]) seen.push(text);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    const resumed: (string | undefined)[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/events')) resumed.push(req.headers()['last-event-id']);
    });
    await page.reload();
    await lastAnswer().getByText(answer).waitFor({ timeout: 30000 });
    const seen = await page.evaluate(() => (window as unknown as { __live: string[] }).__live);
    expect(resumed[0]).toMatch(/^\d+-\d+$/); // resumed after the last event shown, not from the start
    expect(seen.length).toBeGreaterThan(1);
    for (const text of seen) expect([text, answer.startsWith(text.trim())]).toEqual([text, true]);
    expect(seen[0]!.length).toBeGreaterThanOrEqual(before.trim().length); // nothing shown before was lost
    expect(await page.locator('article.msg-assistant').count()).toBe(1);
    await page.getByRole('status').or(page.locator('[aria-live="polite"]')).first().waitFor({ state: 'attached' });
  });

  it('stop keeps the partial answer', async () => {
    const answer = words(300, 's');
    h.llm!.reply = () => answer;
    h.llm!.tokenDelayMs = 60;
    await composer().fill('Now a long one');
    await composer().press('Enter');
    await page.waitForFunction(
      () => (document.querySelector('article.msg.live .markdown')?.textContent ?? '').length > 30,
    );
    await page.getByRole('button', { name: 'Stop' }).click();
    const stopped = page.locator('article.msg-assistant', { hasText: 'Stopped · partial answer' });
    await stopped.waitFor({ timeout: 20000 }).catch(async (error: Error) => {
      // What the page showed instead, so a failure says whether the cancel was refused, lost or came too late.
      const answerShown = await page.locator('article.msg-assistant').last().textContent({ timeout: 1000 });
      const alert = await page.getByRole('alert').allTextContents();
      throw new Error(`${error.message}\nlast answer: ${answerShown?.slice(0, 200)}\nalerts: ${alert.join(' | ')}`);
    });
    const kept = ((await stopped.locator('.markdown').textContent()) ?? '').trim();
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(answer.length);
    expect(answer.startsWith(kept)).toBe(true);
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await a11y('stopped answer');
  });

  it('regenerates an answer and switches between the branches ‹ 1/2 ›', async () => {
    let n = 0;
    h.llm!.reply = () => `Answer number ${++n}`;
    h.llm!.tokenDelayMs = 0;
    await page.getByRole('button', { name: 'New chat' }).click();
    await composer().fill('Pick a number');
    await composer().press('Enter');
    await lastAnswer().getByText('Answer number 1').waitFor();
    // What a screen reader hears: the start, then the whole answer once, never each token.
    await page.evaluate(() => {
      const heard: string[] = [];
      (window as unknown as { __heard: string[] }).__heard = heard;
      const region = document.querySelector('[aria-live="polite"]')!;
      new MutationObserver(() => region.textContent && heard.push(region.textContent)).observe(region, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    h.llm!.tokenDelayMs = 20;
    await lastAnswer().getByRole('button', { name: 'Regenerate' }).click();
    await lastAnswer().getByText('Answer number 2').waitFor();
    await page.waitForFunction(() => (window as unknown as { __heard: string[] }).__heard.length >= 2);
    expect(await page.evaluate(() => (window as unknown as { __heard: string[] }).__heard)).toEqual([
      'GigaChat is answering…',
      'GigaChat answered: Answer number 2',
    ]);
    h.llm!.tokenDelayMs = 0;
    const versions = lastAnswer().getByRole('group', { name: 'Versions' });
    await versions.getByText('2/2').waitFor();
    await versions.getByRole('button', { name: 'Previous version' }).click();
    await lastAnswer().getByText('Answer number 1').waitFor();
    await lastAnswer().getByRole('group', { name: 'Versions' }).getByText('1/2').waitFor();
    await lastAnswer().getByRole('button', { name: 'Next version' }).click();
    await lastAnswer().getByText('Answer number 2').waitFor();

    // Editing the question makes a branch of the user message too.
    await page.locator('article.msg-user').last().getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit your message').fill('Pick another number');
    await page.getByRole('button', { name: 'Save and send' }).click();
    await lastAnswer().getByText('Answer number 3').waitFor();
    await page.locator('article.msg-user').last().getByRole('group', { name: 'Versions' }).getByText('2/2').waitFor();
    await lastAnswer().getByRole('button', { name: 'Good answer' }).click();
    await page.getByRole('status').getByText('marked as a good answer').waitFor();
    expect(await lastAnswer().getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed')).toBe('true');
    await a11y('branches');
    await screenshot(page, 'chat-branches');
  });

  it('renders Markdown with code blocks, and no HTML or script from an answer ever runs', async () => {
    h.llm!.reply = () =>
      [
        '# Heading',
        'Some **bold** text, a [safe link](https://example.com/page) and a [bad link](javascript:window.__pwned=1).',
        '<img src=x onerror="window.__pwned=2"> <script>window.__pwned=3</script>',
        '<a href="javascript:window.__pwned=4">raw anchor</a> ![tracker](https://evil.example/pixel.png)',
        '```ts\nconst answer: number = 42; // <b>not bold</b>\n```',
        '- [ ] a task',
      ].join('\n\n');
    await composer().fill('Be hostile');
    await composer().press('Enter');
    const answer = lastAnswer();
    await answer.locator('pre code').waitFor();
    const md = answer.locator('.markdown');
    expect(await md.locator('img, script, iframe, input').count()).toBe(0);
    expect(await md.locator('pre code').textContent()).toBe('const answer: number = 42; // <b>not bold</b>');
    expect(await md.locator('strong').textContent()).toBe('bold');
    const hrefs = await md.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs.filter((href) => href && !/^https:\/\//.test(href))).toEqual([]);
    expect(await md.getByRole('link', { name: 'safe link' }).getAttribute('rel')).toContain('noopener');
    expect(await md.textContent()).toContain('<img src=x onerror="window.__pwned=2">');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await a11y('hostile answer');
  });

  it('says so when the model cannot answer', async () => {
    h.llm!.failNext(10, 400, { error: { message: 'bad request', type: 'invalid_request_error' } });
    await composer().fill('This one fails');
    await composer().press('Enter');
    await page
      .getByRole('alert')
      .getByText(/The answer failed\. The model refused this request\./)
      .waitFor({ timeout: 30000 });
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await a11y('failed answer');
    h.llm!.reset();
  });

  it('archives, renames, searches, exports and imports conversations', async () => {
    const title = `Renamed ${randomUUID().slice(0, 6)}`;
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Title').fill(title);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    await page.getByLabel('Search conversations').fill(title.slice(0, 10));
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: title }).waitFor();
    await page.getByLabel('Search conversations').fill('');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSON' }).click();
    const exported = JSON.parse(readFileSync(await (await download).path(), 'utf8')) as {
      conversation: { title: string };
    };
    expect(exported.conversation.title).toBe(title);
    exported.conversation.title = `${title} (imported)`;
    await page.getByLabel('Import a conversation (JSON export)').setInputFiles({
      name: 'export.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(exported)),
    });
    await page.getByRole('heading', { name: `${title} (imported)`, level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Archive' }).click();
    await page.getByRole('button', { name: 'Unarchive' }).waitFor();
    await page.getByLabel('Show archived').check();
    await page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link', { name: `${title} (imported)` })
      .waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await a11y('delete dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'New chat', level: 1 }).waitFor();
    await page.getByLabel('Show archived').uncheck();
  });

  it('opens a 500-message conversation within the JavaScript budget, its newest messages first', async () => {
    const login = await h.http.post('/api/v1/auth/login').send({ email, password });
    const imported = await h.http
      .post('/api/v1/conversations/import')
      .set('Authorization', `Bearer ${login.body.accessToken}`)
      .send(longConversationImport(500));
    expect(imported.status).toBe(201);

    // A first load of the chat page: a full navigation with the HTTP cache off, the session restored from
    // sessionStorage. Its size is checked here; how fast it is interactive is measured by `BENCH_ONLY=web-client`.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const scripts: { url: string; encoding?: string }[] = [];
    const onResponse = (res: import('playwright-core').Response) => {
      if (res.request().resourceType() === 'script')
        scripts.push({ url: res.url(), encoding: res.headers()['content-encoding'] });
    };
    page.on('response', onResponse);
    await page.goto(`/c/${imported.body.id}`);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('article.msg').length > 0 &&
        !document.querySelector<HTMLTextAreaElement>('#composer-text')?.disabled,
    );
    page.off('response', onResponse);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    const jsBytes = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script' || e.name.endsWith('.js'))
        .reduce((sum, e) => sum + (e as PerformanceResourceTiming).encodedBodySize, 0),
    );
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect([s.url, s.encoding]).toEqual([s.url, 'gzip']);
    console.log(`chat page: ${(jsBytes / 1024).toFixed(1)} KB of JavaScript (gzip)`);
    expect(jsBytes).toBeLessThanOrEqual(150 * 1024);

    // Only the newest messages are drawn at first; older ones come on request.
    expect(await page.locator('article.msg').count()).toBeLessThan(100);
    for (let i = 0; i < 5; i++) await page.getByRole('button', { name: /earlier messages/ }).click();
    expect(await page.locator('article.msg').count()).toBe(500);
    // Checked where the page opens, at the newest message (a target half scrolled out of the list is clipped, which
    // axe's target-size rule counts as too small).
    await page.evaluate(() => document.querySelector('.messages')!.scrollTo({ top: 1e9 }));
    await a11y('long conversation');
  });
});
