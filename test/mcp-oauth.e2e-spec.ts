import { Redis } from 'ioredis';
import { McpServerRepository } from '#libs/db/repositories/mcp-server.repository';
import { createTurnMcp } from '#libs/mcp/turn-mcp';
import { FakeOAuthServer } from './fakes/fake-oauth';
import { startFakeMcpHttp, type FakeMcpHttp } from './fakes/fake-mcp.server';
import { Harness, signUp, startHarness } from './support/harness';
import { silentLogger } from './support/silent-logger';

const API = '/api/v1';
const PUBLIC_URL = 'https://chat.example.test';
const CALLBACK = `${PUBLIC_URL}/mcp-servers/oauth/callback`;

/**
 * A user's MCP server that signs in with OAuth, on the real stack: discovery, dynamic client registration, the
 * authorization code with PKCE, tokens sealed on the row, lent to the worker's MCP client and refreshed there when the
 * server refuses one, and a sign-in asked for again when the refresh fails. The fake MCP server is its own
 * authorization server and approves at once; the test plays the browser by reading the redirect it answers with.
 */
describe('OAuth sign-in to a user MCP server', () => {
  let h: Harness;
  let oauth: FakeOAuthServer;
  let mcp: FakeMcpHttp;
  let ada: Awaited<ReturnType<typeof signUp>>;
  let bob: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    oauth = new FakeOAuthServer();
    mcp = await startFakeMcpHttp({ oauth });
    h = await startHarness('mcpoauth', {
      env: { PUBLIC_URL, FETCH_URL_ALLOWED_PRIVATE_NETWORKS: '127.0.0.1/32' },
    });
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
  });
  afterAll(async () => {
    await h?.close();
    await mcp?.close();
  });

  async function addServer(name: string) {
    const added = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name, url: mcp.url, oauth: true, requiresApproval: false });
    expect(added.status).toBe(201);
    return added.body as { id: string; oauth: { signedIn: boolean } };
  }

  /** Starts a sign-in and plays the user's browser at the authorization server: the code and state it sends back. */
  async function signInAtServer(serverId: string, auth = ada.auth) {
    const started = await h.http.post(`${API}/mcp-servers/${serverId}/oauth`).set('Authorization', auth);
    expect(started.status).toBe(200);
    const page = new URL(started.body.authorizationUrl as string);
    expect(page.origin + page.pathname).toBe(new URL('/authorize', mcp.url).href);
    expect(page.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(page.searchParams.get('code_challenge_method')).toBe('S256');
    const answer = await fetch(page, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const back = new URL(answer.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(CALLBACK);
    return { state: back.searchParams.get('state')!, code: back.searchParams.get('code')! };
  }

  async function send(content: string, tools: string[]) {
    const created = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({});
    const sent = await h.http
      .post(`${API}/conversations/${created.body.id}/messages`)
      .set('Authorization', ada.auth)
      .send({ content, tools });
    expect(sent.status).toBe(200);
    return sent.body as { assistantMessage: { content: string } };
  }

  const toolNotes = async () =>
    ((await h.http.get(`${API}/tools`).set('Authorization', ada.auth)).body as { notes: string[] }).notes;

  it('signs in, calls the tools with the token, refreshes it when refused, and asks for a new sign-in at the end', async () => {
    const server = await addServer('cal');
    expect(server.oauth).toEqual({ signedIn: false, signedInAt: null, scope: null });
    expect(await toolNotes()).toEqual([
      expect.stringContaining(`needs its owner to sign in: POST /api/v1/mcp-servers/${server.id}/oauth`),
    ]);

    const { state, code } = await signInAtServer(server.id);
    // Only the user who started it finishes it: Bob holding Ada's code and state gets nothing, and takes nothing.
    const stolen = await h.http
      .post(`${API}/mcp-servers/oauth/complete`)
      .set('Authorization', bob.auth)
      .send({ state, code });
    expect(stolen.status).toBe(400);
    expect(stolen.headers['content-type']).toMatch(/application\/problem\+json/);
    const done = await h.http
      .post(`${API}/mcp-servers/oauth/complete`)
      .set('Authorization', ada.auth)
      .send({ state, code });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id: server.id, oauth: { signedIn: true, scope: 'calendar.read' } });
    expect(oauth.grants).toEqual(['authorization_code']);
    expect(oauth.clients.size).toBe(1);
    expect(oauth.resources.every((resource) => resource === mcp.url)).toBe(true);
    // Used once.
    const again = await h.http
      .post(`${API}/mcp-servers/oauth/complete`)
      .set('Authorization', ada.auth)
      .send({ state, code });
    expect(again.status).toBe(400);

    // Sealed at rest, never shown.
    const [row] = await h.db.query<{ oauth_sealed: string; oauth_state_hash: string | null }[]>(
      'SELECT oauth_sealed, oauth_state_hash FROM mcp_servers WHERE id = ?',
      [server.id],
    );
    expect(row!.oauth_sealed).toMatch(/^v1:/);
    expect(row!.oauth_sealed).not.toMatch(/at-|rt-|client-/);
    expect(row!.oauth_state_hash).toBeNull();
    const listed = await h.http.get(`${API}/mcp-servers`).set('Authorization', ada.auth);
    expect(JSON.stringify(listed.body)).not.toMatch(/at-|rt-/);

    // The worker's client sends the access token.
    expect((await send('<<tool cal__echo {"text":"one"}>>', ['cal__echo'])).assistantMessage.content).toBe(
      'Tools said: one',
    );
    expect(mcp.calls).toEqual([{ tool: 'echo', args: { text: 'one' } }]);
    expect(mcp.authorizations.at(-1)).toMatch(/^Bearer at-/);

    // Refused token: refreshed once, the call goes through, and the new tokens are what the row holds.
    const sealedBefore = row!.oauth_sealed;
    oauth.expireAccessTokens();
    expect((await send('<<tool cal__echo {"text":"two"}>>', ['cal__echo'])).assistantMessage.content).toBe(
      'Tools said: two',
    );
    expect(oauth.grants).toEqual(['authorization_code', 'refresh_token']);
    const [refreshed] = await h.db.query<{ oauth_sealed: string }[]>(
      'SELECT oauth_sealed FROM mcp_servers WHERE id = ?',
      [server.id],
    );
    expect(refreshed!.oauth_sealed).not.toBe(sealedBefore);

    // Revoked: nothing to refresh with; the server is skipped with a note saying how to sign in again, not a failure.
    oauth.expireAccessTokens();
    oauth.revokeRefreshTokens();
    expect(await toolNotes()).toEqual([
      expect.stringContaining(`needs its owner to sign in: POST /api/v1/mcp-servers/${server.id}/oauth`),
    ]);

    // A new sign-in brings it back, with the client registered before.
    const second = await signInAtServer(server.id);
    const redone = await h.http.post(`${API}/mcp-servers/oauth/complete`).set('Authorization', ada.auth).send(second);
    expect(redone.status).toBe(200);
    expect(oauth.clients.size).toBe(1);
    expect(await toolNotes()).toEqual([]);

    // A code the authorization server refuses (late, used, forged) fails that sign-in alone: the working one stays.
    const third = await signInAtServer(server.id);
    const refused = await h.http
      .post(`${API}/mcp-servers/oauth/complete`)
      .set('Authorization', ada.auth)
      .send({ ...third, code: 'not-a-code-it-gave' });
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ code: 'upstream_unavailable' });
    expect(await toolNotes()).toEqual([]);
    expect((await send('<<tool cal__echo {"text":"three"}>>', ['cal__echo'])).assistantMessage.content).toBe(
      'Tools said: three',
    );
  });

  it("replaces a sealed sign-in only where the row still holds what the worker read (another process's write stands)", async () => {
    const added = await addServer('cas');
    const servers = new McpServerRepository(h.db.manager);
    const sealedNow = async () => (await servers.findOwned(added.id, ada.userId))!.oauthSealed;
    expect(await sealedNow()).toBeNull();
    expect(await servers.saveOAuth(added.id, 'read-by-worker', null)).toBe(true);
    // A sign-in lands after the worker read the row…
    expect(await servers.saveOAuth(added.id, 'signed-in-meanwhile')).toBe(true);
    // …so the worker's write, made against what it read, changes nothing.
    expect(await servers.saveOAuth(added.id, 'refreshed', 'read-by-worker')).toBe(false);
    expect(await sealedNow()).toBe('signed-in-meanwhile');
    expect(await servers.saveOAuth(added.id, 'refreshed', 'signed-in-meanwhile')).toBe(true);
    expect(await sealedNow()).toBe('refreshed');
    const removed = await h.http.delete(`${API}/mcp-servers/${added.id}`).set('Authorization', ada.auth);
    expect(removed.status).toBe(204);
  });

  it('two workers whose access token was refused at once refresh it once between them (a lock in Redis)', async () => {
    const added = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', bob.auth)
      .send({ name: 'twin', url: mcp.url, oauth: true, requiresApproval: false });
    expect(added.status).toBe(201);
    const signedIn = await signInAtServer(added.body.id as string, bob.auth);
    const done = await h.http.post(`${API}/mcp-servers/oauth/complete`).set('Authorization', bob.auth).send(signedIn);
    expect(done.status).toBe(200);

    // Two worker processes' MCP, as each builds it: its own pool and connections, the same rows and Redis.
    const redis = new Redis(h.config.redis.url, { keyPrefix: h.config.redis.keyPrefix, maxRetriesPerRequest: 1 });
    const workers = [1, 2].map(() =>
      createTurnMcp(h.config, {
        db: { mcpServers: new McpServerRepository(h.db.manager) },
        redis,
        logger: silentLogger,
      }),
    );
    try {
      oauth.expireAccessTokens();
      const grantsBefore = oauth.grants.length;
      const listed = await Promise.all(workers.map(({ gateway }) => gateway.allTools(bob.userId)));
      for (const { tools, notes } of listed) {
        expect(notes).toEqual([]);
        expect(tools.map((tool) => tool.name)).toContain('twin__echo');
      }
      expect(oauth.grants.slice(grantsBefore)).toEqual(['refresh_token']);
    } finally {
      await Promise.all(workers.map(({ pool }) => pool.close()));
      await redis.quit();
    }
  });

  it("refuses what is not one's own or not OAuth, and bad input, with problems that change nothing", async () => {
    const server = await addServer('cal2');
    expect((await h.http.post(`${API}/mcp-servers/${server.id}/oauth`).set('Authorization', bob.auth)).status).toBe(
      404,
    );
    const headers = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'plain', url: mcp.url, headers: { Authorization: 'Bearer x' } });
    expect(
      (await h.http.post(`${API}/mcp-servers/${headers.body.id}/oauth`).set('Authorization', ada.auth)).status,
    ).toBe(409);
    const both = await h.http
      .post(`${API}/mcp-servers`)
      .set('Authorization', ada.auth)
      .send({ name: 'both', url: mcp.url, oauth: true, headers: { Authorization: 'Bearer x' } });
    expect(both.status).toBe(400);
    for (const body of [
      {},
      { state: 'short', code: 'x' },
      { state: 'a'.repeat(43), code: '' },
      { state: 'a'.repeat(43) },
    ]) {
      const refused = await h.http.post(`${API}/mcp-servers/oauth/complete`).set('Authorization', ada.auth).send(body);
      expect(refused.status).toBe(400);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect((await h.http.post(`${API}/mcp-servers/not-a-uuid/oauth`).set('Authorization', ada.auth)).status).toBe(400);
    const [row] = await h.db.query<{ oauth_sealed: string | null }[]>(
      'SELECT oauth_sealed FROM mcp_servers WHERE id = ?',
      [server.id],
    );
    expect(row!.oauth_sealed).toBeNull();
  });
});
