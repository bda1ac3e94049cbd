import type { Browser, BrowserContext, Page } from 'playwright-core';
import { totpCode } from '#libs/auth/totp';
import { WEB_CLIENT_CSP } from '../../apps/api/src/web/web-client';
import { Harness, startHarness } from '../support/harness';
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
 * Files, settings and administration in a real browser against the real stack, plus how the API serves the client.
 * Flow: register (the first account is the admin) → upload a file, watch it become ready → ask about it and follow
 * the citation → two-step sign-in set up with the QR page, then sign in with a code and with a recovery code → API
 * tokens and sharing → the admin sees the audit entries, unlocks a locked-out user who saw the lockout message.
 */

describe('web client: files, settings and admin in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: PageProblems;
  const stamp = Date.now().toString(36);
  const email = `admin.${stamp}@example.com`;
  const password = 'correct horse admin battery staple';
  const other = { email: `bob.${stamp}@example.com`, password: 'correct horse bob battery staple' };
  let secret = '';

  const a11y = async (state: string) => {
    expect([state, await axeViolations(page)]).toEqual([state, []]);
  };
  const composer = () => page.getByRole('textbox', { name: 'Message', exact: true });
  const signIn = async (as: { email: string; password: string }) => {
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.getByLabel('Email').fill(as.email);
    await page.getByLabel('Password').fill(as.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  beforeAll(async () => {
    h = await startHarness('webaccount', { env: { RATE_LIMIT_AUTH_MAX: '1000' } });
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
        path: `/tmp/webacc-${expect.getState().currentTestName?.slice(50, 90).replace(/\W+/g, '-')}.png`,
      });
    expect(await cspViolations(page).catch(() => [])).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  describe('serving the client', () => {
    it('serves index.html at / and at client routes with a strict CSP, no-cache, and no inline script or style', async () => {
      for (const [path, accept] of [
        ['/', undefined],
        ['/c/00000000-0000-4000-8000-000000000000', 'text/html,application/xhtml+xml'],
        ['/settings', 'text/html'],
      ] as const) {
        const req = h.http.get(path);
        const res = await (accept ? req.set('Accept', accept) : req);
        expect([path, res.status, res.headers['content-type']]).toEqual([path, 200, 'text/html; charset=utf-8']);
        expect(res.headers['content-security-policy']).toBe(WEB_CLIENT_CSP);
        expect(res.headers['cache-control']).toBe('no-cache');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.text).toMatch(/<script type="module" crossorigin src="\/assets\/[\w-]+\.js"><\/script>/);
        expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i);
      }
    });

    it('serves hashed assets immutable and gzipped, and leaves every API path to the API', async () => {
      const index = await h.http.get('/');
      const script = /src="(\/assets\/[\w-]+\.js)"/.exec(index.text)![1]!;
      const asset = await h.http.get(script).set('Accept-Encoding', 'gzip');
      expect(asset.status).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['content-encoding']).toBe('gzip');
      expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
      const plain = await h.http.get(script).set('Accept-Encoding', 'identity');
      expect(plain.headers['content-encoding']).toBeUndefined();

      for (const [path, accept] of [
        ['/api/v1/nope', 'text/html'],
        ['/assets/missing-0000.js', 'text/html'],
        ['/nope', undefined],
        ['/conversations', 'application/json'],
        ['/health/nope', 'text/html'],
      ] as const) {
        const req = h.http.get(path);
        const res = await (accept ? req.set('Accept', accept) : req);
        expect([path, res.status, res.body.code]).toEqual([path, 404, 'route_not_found']);
      }
      expect((await h.http.get('/health/live').set('Accept', 'text/html')).body).toEqual({ status: 'ok' });
      expect((await h.http.post('/').set('Accept', 'text/html')).status).toBe(404);
    });
  });

  it('registers the first account (an administrator)', async () => {
    await page.goto('/register');
    await page.getByLabel('Name').fill('Grace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).waitFor();
  });

  it('uploads a file with a progress bar, follows it to ready, asks about it and follows the citation', async () => {
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('heading', { name: 'Files', level: 1 }).waitFor();
    await a11y('files, empty');
    const hostileName = '<img src=x onerror=window.__pwned=1>policy.md';
    await page.getByLabel('Upload files').setInputFiles({
      name: hostileName,
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Travel policy\n\nEmployees travel by train for every trip shorter than 500 kilometres. ' +
          'Flights need the approval of a director. Hotel nights are booked through the travel desk.\n',
      ),
    });
    const row = page.getByRole('row', { name: /policy\.md/ });
    await row.getByText(/Ready · \d+ passages/).waitFor({ timeout: 30000 });
    await a11y('files, ready');
    await screenshot(page, 'files');
    expect(await row.getByRole('rowheader').textContent()).toBe(hostileName);

    h.llm!.reply = () => 'Trains are used for trips under 500 km [1].';
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await composer().fill('What does the travel policy say about trains for a trip?');
    await composer().press('Enter');
    const answer = page.locator('article.msg-assistant:not(.live)').last();
    await answer.getByText('Trains are used for trips under 500 km').waitFor({ timeout: 30000 });
    const source = answer.getByRole('region', { name: 'Sources' }).getByRole('listitem').first();
    expect(await source.textContent()).toContain('kilometres');
    await answer.getByRole('link', { name: 'Source 1' }).click();
    await page.waitForFunction(() => document.activeElement?.id.startsWith('src-') === true);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain(hostileName);
    await a11y('answer with a citation');
    await screenshot(page, 'chat-citations');
    await source.getByRole('link', { name: /policy\.md/ }).click();
    await page.getByRole('heading', { name: 'Files', level: 1 }).waitFor();
    await page.locator('tr.highlight').getByRole('rowheader', { name: hostileName }).waitFor();
    expect(await page.locator('img:not(.qr)').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows why a file failed, and deletes it', async () => {
    // Large enough (3 MB) that the upload's progress bar is drawn before the upload ends.
    await page.evaluate(() => {
      const w = window as unknown as { __progressSeen: boolean };
      w.__progressSeen = false;
      new MutationObserver(() => {
        if (document.querySelector('[aria-label="Uploads in progress"] progress')) w.__progressSeen = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    await page.getByLabel('Upload files').setInputFiles({
      name: 'broken.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from(`%PDF-1.4\n${'% this is not really a pdf\n'.repeat(120_000)}`),
    });
    const row = page.getByRole('row', { name: /broken\.pdf/ });
    await row.getByText(/^Failed: /).waitFor({ timeout: 30000 });
    expect(await page.evaluate(() => (window as unknown as { __progressSeen: boolean }).__progressSeen)).toBe(true);
    await a11y('files, failed');
    await row.getByRole('button', { name: 'Delete broken.pdf' }).click();
    await page.getByRole('status').getByText('broken.pdf deleted.').waitFor();
    expect(await page.getByRole('row', { name: /broken\.pdf/ }).count()).toBe(0);
  });

  it('sets up two-step sign-in with the QR code, then signs in with a code and with a recovery code', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await a11y('settings');
    await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await a11y('two-step setup');
    await screenshot(page, 'settings-2fa');
    secret = ((await page.locator('code.secret').textContent()) ?? '').trim();
    await page.getByLabel('Code from the app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    const recovery = ((await codes.first().textContent()) ?? '').trim();
    await a11y('recovery codes');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn({ email, password });
    await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor();
    await a11y('second step');
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page
      .getByRole('alert')
      .getByText(/6-digit code/)
      .waitFor();
    // The code of the next time step: the current one was spent turning two-step sign-in on.
    await page.getByLabel('Authentication code').fill(totpCode(secret, { epochSeconds: Date.now() / 1000 + 30 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn({ email, password });
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recovery);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
  });

  it('creates an API token shown once, revokes it, and shares a conversation', async () => {
    const registered = await h.http
      .post('/api/v1/auth/register')
      .send({ email: other.email, password: other.password, displayName: 'Bob' });
    expect(registered.status).toBe(201);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Name').fill('ci bot');
    await page.getByLabel(/files:read/).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = await page.getByLabel('New token').inputValue();
    expect(shown).toMatch(/^gct_/);
    expect((await h.http.get('/api/v1/files').set('Authorization', `Bearer ${shown}`)).status).toBe(200);
    await a11y('token created');
    await page.getByRole('button', { name: 'Revoke ci bot' }).click();
    await page.getByRole('status').getByText('Token “ci bot” revoked.').waitFor();
    expect((await h.http.get('/api/v1/files').set('Authorization', `Bearer ${shown}`)).status).toBe(401);

    await page.getByLabel('Email of the person').fill(other.email);
    await page.getByLabel('They may').selectOption('write');
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByText('Bob (' + other.email + ') · read and write').waitFor();
  });

  it('lets the administrator find the audit entries, and unlock a user who saw the lockout message', async () => {
    // Bob fails five times in his own browser and is told, in words, that the account is locked.
    const bob = await newContext(browser, h.baseUrl);
    const bobPage = await bob.newPage();
    await bobPage.goto('/login');
    for (let i = 0; i < 6; i++) {
      await bobPage.getByLabel('Email').fill(other.email);
      await bobPage.getByLabel('Password').fill(`wrong password number ${i}`);
      await bobPage.getByRole('button', { name: 'Sign in' }).click();
      await bobPage.getByRole('alert').waitFor();
    }
    expect(await bobPage.getByRole('alert').textContent()).toMatch(/locked for \d+ minutes/);
    await bob.close();

    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Administration: users' }).waitFor();
    const bobRow = page.getByRole('row', { name: new RegExp(other.email.replace(/\./g, '\\.')) });
    await bobRow.getByText(/locked \d+ min/).waitFor();
    await a11y('admin users');
    await screenshot(page, 'admin-users');
    await bobRow.getByRole('button', { name: `Unlock ${other.email}` }).click();
    await page.getByRole('status').getByText(`${other.email} can sign in again.`).waitFor();

    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('auth.2fa_enabled');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.getByRole('table').getByRole('row');
    await rows.nth(1).getByText('auth.2fa_enabled').waitFor();
    expect(await rows.count()).toBe(2);
    await page.getByLabel('Action').fill('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('rowheader', { name: 'auth.unlocked' }).first().waitFor();
    await page.getByRole('rowheader', { name: 'auth.recovery_code_used' }).first().waitFor();
    await a11y('audit log');
    await screenshot(page, 'admin-audit');
    await screenshot(page, 'admin-audit-dark', { dark: true });
  });

  it('lets the administrator replay a conversation against another setup and read the report beside the originals', async () => {
    const [conversation] = await h.db.query(
      'SELECT c.id FROM conversations c JOIN users u ON u.id = c.owner_id WHERE u.email = ? ORDER BY c.created_at LIMIT 1',
      [email],
    );
    h.llm!.reply = () => 'Replayed: the train for every short trip.';
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Replays' }).click();
    await page.getByRole('heading', { name: 'Administration: replays' }).waitFor();
    await page.getByText('No replays yet.').waitFor();
    await page.getByRole('link', { name: 'New replay' }).click();
    await page.getByRole('heading', { name: 'New replay' }).waitFor();
    await a11y('new replay');

    // A bad id is refused with the API's words, and nothing starts.
    await page.getByLabel('Conversation ids (one per line)').fill('not-a-conversation');
    await page.getByLabel('Model', { exact: true }).fill('fake-model');
    await page.getByLabel('Label', { exact: true }).fill('same model, no prompt');
    await page.getByLabel('System prompt', { exact: true }).selectOption('none');
    await page.getByRole('button', { name: 'Start the replay' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/UUID/);
    expect(await h.db.query('SELECT id FROM replays')).toEqual([]);

    await page.getByLabel('Conversation ids (one per line)').fill(conversation.id);
    await page.getByRole('button', { name: 'Start the replay' }).click();
    await page.getByRole('heading', { name: /^Replay [0-9a-f]{8}$/ }).waitFor();
    await page.locator('.facts').getByText('completed', { exact: true }).waitFor({ timeout: 20000 });
    const answers = page.getByRole('region', { name: 'Answers beside the originals' });
    const row = answers.getByRole('row', { name: /What does the travel policy say/ });
    await row.getByText('Replayed: the train for every short trip.').waitFor();
    expect(await row.getByText('Trains are used for trips under 500 km [1].').count()).toBe(1);
    expect(await row.getByRole('cell', { name: 'same model, no prompt' }).count()).toBe(1);
    const report = page.getByRole('region', { name: 'Report' });
    await report
      .getByText(/same model, no prompt/)
      .first()
      .waitFor();
    await a11y('replay report');
    await screenshot(page, 'admin-replay');

    const [stored] = await h.db.query('SELECT status FROM replays');
    expect(stored).toEqual({ status: 'completed' });
    await page.getByRole('link', { name: 'All replays' }).click();
    const listed = page.getByRole('region', { name: 'Replay list' }).getByRole('row', { name: /completed/ });
    await listed.waitFor();
    expect(await listed.getByRole('cell', { name: 'same model, no prompt' }).count()).toBe(1);
    expect(await listed.getByText('1 of 1').count()).toBe(1);
  });
});
