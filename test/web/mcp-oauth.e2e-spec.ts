import type { Browser, Page } from 'playwright-core';
import { FakeOAuthServer } from '../fakes/fake-oauth';
import { startFakeMcpHttp, type FakeMcpHttp } from '../fakes/fake-mcp.server';
import { Harness, signUp, startHarness, type TestUser } from '../support/harness';
import { axeViolations, cspViolations, launchBrowser, newContext, watch, type PageProblems } from './support/browser';

const API = '/api/v1';

/*
 * The web client's page where an MCP server's authorization server sends the browser back: it finishes the sign-in
 * with the signed-in user's credentials. The browser arrives signed out, as after a long stay at the authorization
 * server in a new tab: it signs in first and comes back to the page with its code and state.
 */
describe('web client: finishing an OAuth sign-in to an MCP server', () => {
  let h: Harness;
  let mcp: FakeMcpHttp;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;
  let ada: TestUser;

  beforeAll(async () => {
    mcp = await startFakeMcpHttp({ oauth: new FakeOAuthServer() });
    h = await startHarness('weboauth', { env: { FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' } });
    ada = await signUp(h, 'ada');
    browser = await launchBrowser();
    const context = await newContext(browser, h.baseUrl);
    context.setDefaultTimeout(20000);
    page = await context.newPage();
    problems = watch(page);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await mcp?.close();
  });
  afterEach(async () => {
    expect(await cspViolations(page).catch(() => [])).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  it('signs in first when needed, then finishes the sign-in and takes the code out of the address bar', async () => {
    const added = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'cal', url: mcp.url, oauth: true });
    const started = await h.http.post(`${API}/mcp-servers/${added.body.id}/oauth`).set('Authorization', ada.auth);
    const answer = await fetch(started.body.authorizationUrl as string, { redirect: 'manual' });
    const back = new URL(answer.headers.get('location')!);
    expect(back.pathname).toBe('/mcp-servers/oauth/callback');

    await page.goto(`/mcp-servers/oauth/callback${back.search}`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('Email').fill(ada.email);
    await page.getByLabel('Password').fill(ada.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const status = page.getByRole('status');
    await status.getByText('is connected').waitFor();
    expect(await status.textContent()).toMatch(/^cal is connected \(calendar\.read\)\. Its tools are cal__…/);
    expect(new URL(page.url()).search).toBe('');
    expect([await axeViolations(page)]).toEqual([[]]);
    const listed = await h.http.get(`${API}/mcp-servers`).set('Authorization', ada.auth);
    expect(listed.body.items[0].oauth).toMatchObject({ signedIn: true, scope: 'calendar.read' });
  });

  it('says so when the authorization server refused, or the page is opened without a sign-in to finish', async () => {
    await page.goto('/mcp-servers/oauth/callback?error=access_denied&error_description=The+user+said+no');
    expect(await page.getByRole('alert').textContent()).toBe(
      "The server's sign-in page did not let GigaChat in: The user said no",
    );
    await page.goto('/mcp-servers/oauth/callback?state=abcdefghijklmnopqrstuvwxyz&code=used-up');
    expect(await page.getByRole('alert').textContent()).toMatch(
      /matches no sign-in of yours under way \(unknown, already used or expired\)\.$/,
    );
    await page.goto('/mcp-servers/oauth/callback');
    expect(await page.getByRole('alert').textContent()).toBe('This page was opened without a sign-in to finish.');
  });
});
