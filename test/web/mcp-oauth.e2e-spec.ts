import type { Browser, Page } from 'playwright-core';
import { FakeOAuthServer } from '../fakes/fake-oauth';
import { startFakeMcpHttp, type FakeMcpHttp } from '../fakes/fake-mcp.server';
import { Harness, signUp, startHarness, type TestUser } from '../support/harness';
import { axeViolations, cspViolations, launchBrowser, newContext, watch, type PageProblems } from './support/browser';

const API = '/api/v1';
/** Where the deployment says browsers reach it; the test's browser is sent from there to the harness's address. */
const PUBLIC_URL = 'https://chat.example.test';

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
    h = await startHarness('weboauth', { env: { PUBLIC_URL, FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' } });
    ada = await signUp(h, 'ada');
    browser = await launchBrowser();
    const context = await newContext(browser, h.baseUrl);
    context.setDefaultTimeout(20000);
    page = await context.newPage();
    problems = watch(page);
    // The proxy in front of a real deployment: its address leads to the API.
    await page.route(`${PUBLIC_URL}/**`, (route) => {
      const asked = new URL(route.request().url());
      return route.fulfill({ status: 302, headers: { location: `${h.baseUrl}${asked.pathname}${asked.search}` } });
    });
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

  it('adds a server in Settings, goes to its sign-in page and comes back connected', async () => {
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'MCP servers' });
    await section.getByLabel('Prefix of its tools (lower-case letters, digits and _)').fill('tasks');
    await section.getByLabel('Address (streamable HTTP)').fill(mcp.url);
    expect(await section.getByLabel('Sign in with OAuth').isChecked()).toBe(true);
    expect([await axeViolations(page)]).toEqual([[]]);
    await section.getByRole('button', { name: 'Add server' }).click();

    // To the server's sign-in page (which says yes at once), back through the public address, to the callback page.
    await page.getByRole('status').getByText('tasks is connected').waitFor();
    await page.getByRole('link', { name: 'Your MCP servers' }).click();
    const listed = page.getByRole('region', { name: 'MCP servers' }).getByRole('listitem').filter({ hasText: 'tasks' });
    await listed.getByText(/OAuth: signed in .*\(calendar\.read\)/).waitFor();
    await listed.getByRole('button', { name: 'Sign in again to tasks' }).waitFor();
    expect([await axeViolations(page)]).toEqual([[]]);
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
