import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Harness, signUp, startHarness, TestUser } from '../support/harness';
import { launchBrowser, newContext } from './support/browser';

/*
 * The real Temporal UI (the dev server's, 127.0.0.1:8233 unless TEMPORAL_UI_URL says otherwise) in headless Chromium,
 * showing a turn whose payloads the API and worker sealed. An admin who opened it from the web client (Administration
 * → "Temporal UI (decoded)", which sets the codec cookie) sees the answer; a browser without that cookie gets 401
 * from the codec and sees ciphertext only. The UI's codec settings ("include cross-origin credentials", the endpoint)
 * are put in its localStorage as its settings dialog would.
 */

const UI = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');

describe('the Temporal UI decodes a turn for a signed-in admin only (headless Chromium)', () => {
  let h: Harness;
  let browser: Browser;
  let admin: TestUser;
  let workflowId = '';
  let secret = '';

  beforeAll(async () => {
    h = await startHarness('webtemporalui', {
      env: { RATE_LIMIT_AUTH_MAX: '1000', TEMPORAL_UI_URL: UI, TEMPORAL_UI_ORIGINS: UI },
    });
    admin = await signUp(h, 'root'); // the installation's first account: an admin
    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', admin.auth).send({});
    secret = `Saffron ledger ${Math.random().toString(36).slice(2, 10)}`;
    const sent = await h.http
      .post(`/api/v1/conversations/${conversation.body.id}/messages`)
      .set('Authorization', admin.auth)
      .send({ content: secret });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage.content).toBe(`Echo: ${secret}`);
    workflowId = `turn:${sent.body.turnId}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A fresh browser whose Temporal UI calls this test's API as its codec, with credentials. */
  async function browserWithUiSettings(): Promise<BrowserContext> {
    const context = await newContext(browser, h.baseUrl);
    context.setDefaultTimeout(20_000);
    const endpoint = `${h.baseUrl}/api/v1/codec`;
    await context.addInitScript(
      ({ ui, codec }) => {
        if (window.location.origin !== ui) return;
        localStorage.setItem('endpoint', JSON.stringify(codec));
        localStorage.setItem('includeCredentials', 'true');
        localStorage.setItem('passAccessToken', 'false');
        localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
      },
      { ui: UI, codec: endpoint },
    );
    return context;
  }

  /** Opens the turn's page in the UI and waits for its codec's answer to the first decode request. */
  async function openTurn(page: Page): Promise<number> {
    const decoded = page.waitForResponse(
      (res) => res.url().endsWith('/api/v1/codec/decode') && res.request().method() === 'POST',
    );
    await page.goto(`${UI}/namespaces/${h.config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`);
    return (await decoded).status();
  }

  it('an admin opens it from the web client and reads the decoded answer', async () => {
    const context = await browserWithUiSettings();
    const app = await context.newPage();
    await app.goto('/');
    await app.getByLabel('Email').fill(admin.email);
    await app.getByLabel('Password').fill(admin.password);
    await app.getByRole('button', { name: 'Sign in' }).click();
    await app.getByRole('link', { name: 'Admin', exact: true }).click();
    await app.getByRole('link', { name: 'Users', exact: true }).waitFor();
    const [ui] = await Promise.all([
      context.waitForEvent('page'),
      app.getByRole('button', { name: 'Temporal UI (decoded)' }).click(),
    ]);
    await app.getByRole('status').filter({ hasText: 'Payloads decode in the Temporal UI until' }).waitFor();
    await ui.waitForURL(`${UI}/**`);
    // The cookie is the admin's, for the codec routes only, and no script can read it.
    const [cookie] = (await context.cookies()).filter((each) => each.name === 'gigachat_codec');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/codec' });

    expect(await openTurn(ui)).toBe(200);
    await ui.getByText(`Echo: ${secret}`).first().waitFor();
    expect(await ui.evaluate(() => document.cookie)).not.toContain('gigachat_codec');
  });

  it('without the codec cookie the codec refuses, and the page shows no plaintext', async () => {
    const context = await browserWithUiSettings();
    const ui = await context.newPage();
    expect(await openTurn(ui)).toBe(401);
    // The UI says so and falls back to what Temporal holds: sealed payloads (their encoding, base64, is
    // "binary/encrypted"), never the text.
    await ui.locator('#content').getByText('Codec Server could not connect').waitFor();
    await ui.getByText(Buffer.from('binary/encrypted').toString('base64')).first().waitFor();
    const text = await ui.locator('body').innerText();
    expect(text).not.toContain(secret);
  });
});
